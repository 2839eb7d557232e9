// `ufg verify [id...]`: re-hash every file of every (or the named) artifact; exit 1 on any change.
import { parseOptions } from '../args.ts';
import { isArtifactId } from '../../storage/artifactId.ts';
import { openStore } from '../../storage/store.ts';
import { formatVerifyReport, verifyStore } from '../../storage/verify.ts';
import { UserInputError } from '../../pipelines/errors.ts';

export const summary = 're-hash the artifact store and report changed or missing files and inputs';

export const help = `usage: ufg verify [--store DIR] [--json] [artifact-id ...]
  exit 0 when everything matches its manifest, 1 when anything changed or is missing`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { store: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  for (const id of positionals) if (!isArtifactId(id)) throw new UserInputError(`'${id}' is not an artifact id`);
  const store = openStore(values.store);
  const report = await verifyStore(store, positionals.length ? { ids: positionals } : {});
  console.log(values.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
  return report.problems.length === 0 ? 0 : 1;
}
