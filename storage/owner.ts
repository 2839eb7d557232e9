// Which process holds a lease or made a staging folder, and whether that process is provably gone.
// "Provably" matters: a folder or lease of a process that may still be running is never taken
// over early or deleted. A pid means something only within one process table, so the owner names
// its host and its pid namespace (two containers on one machine can share a host name but not a
// namespace); only an owner in this very process table whose pid no longer exists is dead.
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  host: string;
  /** The pid namespace (Linux: readlink /proc/self/ns/pid), when the platform has one. */
  pidns?: string;
  pid: number;
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

let self: Owner | undefined;

export function thisOwner(): Owner {
  if (!self || self.pid !== process.pid) {
    const pidns = pidNamespace();
    self = { host: hostname(), ...(pidns ? { pidns } : {}), pid: process.pid };
  }
  return self;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True only when `owner` ran in this process table and its pid is gone. A reused pid reads as
 * alive, which errs the safe way (wait for expiry instead of taking over).
 */
export function provablyDead(owner: Owner): boolean {
  const me = thisOwner();
  if (owner.host !== me.host || owner.pidns !== me.pidns) return false;
  return !processAlive(owner.pid);
}

export function isOwner(v: unknown): v is Owner {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.host === 'string' && typeof o.pid === 'number' && (o.pidns === undefined || typeof o.pidns === 'string');
}

export function formatOwner(o: Owner): string {
  return `pid ${o.pid} on ${o.host}`;
}
