// `ufg verify`: re-hash everything and say exactly which artifact and which file no longer
// matches its manifest, which external source changed, and which artifacts lost an input.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from './atomic.ts';
import { formatStaged, type StagedArtifact } from './staging.ts';
import type { ArtifactStore } from './store.ts';

export type VerifyProblemKind =
  | 'bad-manifest'
  | 'missing-file'
  | 'changed-file'
  | 'missing-input'
  | 'missing-source'
  | 'changed-source';

export interface VerifyProblem {
  id: string;
  kind: VerifyProblemKind;
  /** The artifact file, the external source path, or the missing input id. */
  file?: string;
  detail: string;
}

export interface VerifyReport {
  checkedArtifacts: number;
  checkedFiles: number;
  checkedBytes: number;
  problems: VerifyProblem[];
  /**
   * Work in progress or left behind (leases, attempt folders). Listed, not counted as problems:
   * the store never deletes what a running process may still use, so this is where a user sees
   * what a crashed machine left.
   */
  staging: StagedArtifact[];
}

async function fileDigest(path: string): Promise<{ size: number; sha256: string } | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    return { size: s.size, sha256: await sha256File(path) };
  } catch {
    return undefined;
  }
}

export interface VerifyOptions {
  /** Only these artifacts (default: every artifact in the store). */
  ids?: readonly string[];
  /** Called after each artifact, for progress output on big stores. */
  onArtifact?: (id: string, problems: number) => void;
}

export async function verifyStore(store: ArtifactStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const ids = options.ids ?? (await store.list());
  const report: VerifyReport = { checkedArtifacts: 0, checkedFiles: 0, checkedBytes: 0, problems: [], staging: await store.staging(options.ids) };
  for (const id of ids) {
    const before = report.problems.length;
    const problem = await store.manifestProblem(id);
    const manifest = problem ? undefined : await store.manifest(id);
    report.checkedArtifacts++;
    if (!manifest) {
      report.problems.push({ id, kind: 'bad-manifest', detail: problem ?? 'no artifact with this id in the store' });
      options.onArtifact?.(id, 1);
      continue;
    }
    for (const f of manifest.files) {
      const d = await store.digest(id, f.name);
      report.checkedFiles++;
      if (!d) {
        report.problems.push({ id, kind: 'missing-file', file: f.name, detail: `${f.name} is missing` });
        continue;
      }
      report.checkedBytes += d.size;
      if (d.size !== f.size || d.sha256 !== f.sha256) {
        report.problems.push({
          id,
          kind: 'changed-file',
          file: f.name,
          detail: `${f.name} changed: size ${f.size} → ${d.size}, sha256 ${f.sha256.slice(0, 12)}… → ${d.sha256.slice(0, 12)}…`,
        });
      }
    }
    if (manifest.source) {
      for (const f of manifest.source.files) {
        const path = f.name ? join(manifest.source.path, f.name) : manifest.source.path;
        const d = await fileDigest(path);
        report.checkedFiles++;
        if (!d) {
          report.problems.push({ id, kind: 'missing-source', file: path, detail: `source file ${path} is missing` });
          continue;
        }
        report.checkedBytes += d.size;
        if (d.size !== f.size || d.sha256 !== f.sha256) {
          report.problems.push({ id, kind: 'changed-source', file: path, detail: `source file ${path} changed since it was registered` });
        }
      }
    }
    for (const input of manifest.inputs) {
      if (!(await store.has(input))) {
        report.problems.push({ id, kind: 'missing-input', file: input, detail: `input ${input} is missing or incomplete` });
      }
    }
    options.onArtifact?.(id, report.problems.length - before);
  }
  return report;
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.problems.map((p) => `${p.id}: ${p.kind}: ${p.detail}`);
  lines.push(...report.staging.map(formatStaged));
  const mb = (report.checkedBytes / 1e6).toFixed(1);
  const broken = new Set(report.problems.map((p) => p.id)).size;
  lines.push(
    report.problems.length === 0
      ? `ok: ${report.checkedArtifacts} artifacts, ${report.checkedFiles} files, ${mb} MB verified`
      : `FAILED: ${broken} of ${report.checkedArtifacts} artifacts have problems (${report.problems.length} in all); ${report.checkedFiles} files, ${mb} MB checked`,
  );
  return lines.join('\n');
}
