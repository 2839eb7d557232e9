// Running `ufg <command>` as a real child process from tests, and the scratch .npy files its
// matrix-taking commands read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpy } from '../pipelines/io/npy.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runUfg(command: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['bin/ufg.mjs', command, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A temp folder removed after the test file, and a writer of named .npy files inside it. */
export function scratchNpy(prefix: string): { dir: string; npy: (name: string, m: Mat) => Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    npy: async (name, m) => {
      const p = join(dir, name);
      await writeNpy(p, m);
      return p;
    },
  };
}

/** Bad input: exit code 2 and one line on stderr matching `pattern`, never a stack trace. */
export function assertUsageError(r: CliResult, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
