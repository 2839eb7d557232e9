// `ufg lineage <artifact-id | results.parquet#row>`: the tree from a result down to its sources.
import { parseOptions } from '../args.ts';
import { lineageTree, formatLineage } from '../../storage/lineage.ts';
import { resolveArtifactRef } from '../../storage/resultsRef.ts';
import { openStore } from '../../storage/store.ts';
import { UserInputError } from '../../pipelines/errors.ts';

export const summary = 'show where an artifact (or a results.parquet#row) came from, down to the source files';

export const help = `usage: ufg lineage <artifact-id | results.parquet#<row>> [--store DIR] [--json]
  rows are numbered from 0; --store defaults to $UFG_HOME/store or .ufg/store`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { store: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (positionals.length !== 1) throw new UserInputError(`expected one artifact id or results.parquet#row\n${help}`);
  const store = openStore(values.store);
  const id = await resolveArtifactRef(positionals[0]!);
  const tree = await lineageTree(store, id);
  if (tree.missing) throw new UserInputError(`no complete artifact ${id} in store ${store.location}`);
  console.log(values.json ? JSON.stringify(tree, null, 2) : formatLineage(tree));
  return 0;
}
