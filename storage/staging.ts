// What is staged but not published: leases and attempt folders as `ufg verify` shows them. The
// store never deletes a folder whose owner may still be running; this report is how a user finds
// what a crashed machine left behind.
import type { AttemptState } from './attempt.ts';
import { formatBytes } from './diskFull.ts';
import type { LeaseStatus } from './lease.ts';
import type { Producer } from './manifest.ts';
import { formatOwner, type Owner } from './owner.ts';

export interface StagedAttemptReport {
  token: string;
  path: string;
  state: AttemptState;
  owner?: Owner;
  producer?: Producer;
  startedAt?: string;
  files: number;
  bytes: number;
}

export interface StagedArtifact {
  id: string;
  /** The artifact's staging folder. */
  path: string;
  /** Whether the artifact is published (what is staged is then left over). */
  published: boolean;
  lease?: {
    generation: number;
    status: LeaseStatus;
    holder?: Owner;
    producer?: Producer;
    refreshedAt?: string;
    ageMs?: number;
  };
  attempts: StagedAttemptReport[];
}

function seconds(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)}s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

function who(p: Producer | undefined): string {
  if (!p) return '';
  const parts = [p.workflowId, p.activity, p.attempt !== undefined ? `attempt ${p.attempt}` : undefined].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** True when nothing staged for the artifact can still be in use by a running process. */
export function isStale(s: StagedArtifact): boolean {
  const leaseLive = s.lease?.status === 'held' || s.lease?.status === 'unreadable';
  return !leaseLive && s.attempts.every((a) => a.state !== 'possibly-live');
}

export function formatStaged(s: StagedArtifact): string {
  const parts: string[] = [];
  const l = s.lease;
  if (!l) parts.push('no lease');
  else if (l.status === 'unreadable') parts.push(`lease ${l.generation} unreadable`);
  else {
    const holder = `${l.holder ? formatOwner(l.holder) : '?'}${who(l.producer)}`;
    const age = l.ageMs !== undefined ? `, refreshed ${seconds(l.ageMs)} ago` : '';
    const state = l.status === 'held' ? 'held by' : l.status === 'expired' ? 'expired, last held by' : 'left by dead';
    parts.push(`lease ${state} ${holder}${age}`);
  }
  for (const a of s.attempts) {
    const state = a.state === 'possibly-live' ? 'owner may be running' : a.state === 'closed' ? 'closed' : 'owner dead';
    parts.push(`attempt ${a.token}: ${state}, ${a.files} files, ${formatBytes(a.bytes)}`);
  }
  const tail = isStale(s) ? ` — nothing here is in use: delete ${s.path} to reclaim it` : '';
  return `staged ${s.id}${s.published ? ' (already published)' : ''}: ${parts.join('; ')}${tail}`;
}
