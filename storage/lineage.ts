// Where a number came from: the tree of artifacts from a result down to the corpus, model and
// SAE files it was computed from, with the producer of each step and the hashes of the sources.
import type { JsonValue } from './artifactId.ts';
import type { Manifest } from './manifest.ts';
import type { ArtifactStore } from './store.ts';

export interface LineageNode {
  id: string;
  /** Absent when the store holds no complete artifact with this id. */
  manifest?: Manifest;
  missing?: true;
  /** Set when this id already appears earlier in the tree (shared input); children omitted. */
  repeated?: true;
  inputs: LineageNode[];
}

export async function lineageTree(store: ArtifactStore, id: string): Promise<LineageNode> {
  const seen = new Set<string>();
  const cache = new Map<string, Manifest | undefined>();
  async function load(i: string): Promise<Manifest | undefined> {
    if (!cache.has(i)) cache.set(i, await store.manifest(i));
    return cache.get(i);
  }
  async function visit(i: string, path: readonly string[]): Promise<LineageNode> {
    if (path.includes(i)) return { id: i, repeated: true, inputs: [] }; // impossible for hashed ids, but never loop
    const manifest = await load(i);
    if (!manifest) return { id: i, missing: true, inputs: [] };
    if (seen.has(i)) return { id: i, manifest, repeated: true, inputs: [] };
    seen.add(i);
    const inputs: LineageNode[] = [];
    for (const input of manifest.inputs) inputs.push(await visit(input, [...path, i]));
    return { id: i, manifest, inputs };
  }
  return visit(id, []);
}

/** Every source artifact the tree reaches, each once. */
export function lineageSources(tree: LineageNode): Manifest[] {
  const out = new Map<string, Manifest>();
  const walk = (n: LineageNode): void => {
    if (n.manifest?.source) out.set(n.id, n.manifest);
    n.inputs.forEach(walk);
  };
  walk(tree);
  return [...out.values()];
}

function scalarText(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Scalar leaves of the params as `a.b=1`, shortened: lineage is read on a terminal. */
export function keyParams(params: JsonValue, maxItems = 8, maxWidth = 120): string {
  const items: string[] = [];
  const walk = (v: JsonValue, prefix: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) walk(child, prefix ? `${prefix}.${k}` : k);
    } else if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) items.push(`${prefix}=[${v.map((x) => scalarText(x)).join(',')}]`);
      else items.push(`${prefix}=[${v.length} items]`);
    } else {
      items.push(`${prefix}=${scalarText(v)}`);
    }
  };
  walk(params, '');
  let text = items.slice(0, maxItems).join(' ');
  if (items.length > maxItems) text += ` …(+${items.length - maxItems})`;
  return text.length > maxWidth ? text.slice(0, maxWidth - 1) + '…' : text;
}

function producerText(m: Manifest): string {
  const p = m.producer;
  const parts: string[] = [];
  if (p.workflowId) parts.push(`workflow ${p.workflowId}${p.runId ? `/${p.runId}` : ''}`);
  if (p.activity) parts.push(`activity ${p.activity}`);
  if (p.attempt !== undefined) parts.push(`attempt ${p.attempt}`);
  if (p.host) parts.push(`host ${p.host}`);
  if (m.attempts && m.attempts.length > 1) parts.push(`${m.attempts.length} staging attempts`);
  if (m.resumedFromChunk !== undefined) parts.push(`resumed from chunk ${m.resumedFromChunk}`);
  if (m.resumedFrom) parts.push(`resumed at ${m.resumedFrom.done}/${m.resumedFrom.total} ${m.resumedFrom.unit}`);
  return parts.join(', ');
}

function nodeLines(n: LineageNode): string[] {
  if (n.missing) return [`${n.id}  MISSING (no complete artifact in the store)`];
  const m = n.manifest!;
  if (m.source) {
    const head = `${n.id}  source${m.source.kind ? ` (${m.source.kind})` : ''}  ${m.source.path}`;
    const files = m.source.files.map((f) => `  ${f.name || '(file)'}  ${f.size} bytes  sha256 ${f.sha256}`);
    return n.repeated ? [`${head}  (shown above)`] : [head, ...files];
  }
  const head = `${n.id}  ${m.stage}  ${m.codeVersion}${n.repeated ? '  (shown above)' : ''}`;
  if (n.repeated) return [head];
  const lines = [head];
  const params = keyParams(m.params);
  if (params) lines.push(`  params: ${params}`);
  const producer = producerText(m);
  if (producer) lines.push(`  produced by: ${producer}  at ${m.finishedAt}`);
  const counts = Object.entries(m.counts);
  if (counts.length) lines.push(`  counts: ${counts.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  lines.push(`  files: ${m.files.map((f) => `${f.name} (${f.size} B)`).join(', ') || '(none)'}`);
  return lines;
}

/** Text tree, one artifact per block, drawn with box characters. */
export function formatLineage(tree: LineageNode): string {
  const out: string[] = [];
  const draw = (n: LineageNode, lead: string, childLead: string): void => {
    const [first, ...rest] = nodeLines(n);
    out.push(lead + first);
    const bar = n.inputs.length ? '│ ' : '  ';
    for (const line of rest) out.push(childLead + bar + line);
    n.inputs.forEach((c, i) => {
      const last = i === n.inputs.length - 1;
      draw(c, childLead + (last ? '└─ ' : '├─ '), childLead + (last ? '   ' : '│  '));
    });
  };
  draw(tree, '', '');
  return out.join('\n');
}

/** One row per (artifact, consumer) edge: the shape of a lineage table in Parquet or CSV. */
export interface LineageRow {
  id: string;
  /** The artifact that used this one as an input; '' for the root. */
  usedBy: string;
  depth: number;
  stage: string;
  codeVersion: string;
  params: string;
  workflowId: string;
  runId: string;
  activity: string;
  attempt: number | null;
  finishedAt: string;
  /** Source artifacts only: the external path and 'name:sha256' of each of its files. */
  sourcePath: string;
  sourceHashes: string;
  missing: boolean;
}

export function flattenLineage(tree: LineageNode): LineageRow[] {
  const rows: LineageRow[] = [];
  const walk = (n: LineageNode, usedBy: string, depth: number): void => {
    const m = n.manifest;
    rows.push({
      id: n.id,
      usedBy,
      depth,
      stage: m?.stage ?? '',
      codeVersion: m?.codeVersion ?? '',
      params: m ? JSON.stringify(m.params) : '',
      workflowId: m?.producer.workflowId ?? '',
      runId: m?.producer.runId ?? '',
      activity: m?.producer.activity ?? '',
      attempt: m?.producer.attempt ?? null,
      finishedAt: m?.finishedAt ?? '',
      sourcePath: m?.source?.path ?? '',
      sourceHashes: m?.source ? m.source.files.map((f) => `${f.name}:${f.sha256}`).join(' ') : '',
      missing: !m,
    });
    n.inputs.forEach((c) => walk(c, n.id, depth + 1));
  };
  walk(tree, '', 0);
  return rows;
}
