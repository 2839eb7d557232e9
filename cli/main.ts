// `ufg <command> …`: each command lives in cli/commands/<command>.ts and exports
// `run(args): Promise<number>`, a one-line `summary` and its `help` text (printed here for
// `-h`/`--help`, so no command parses that flag itself).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserInputError } from '../pipelines/errors.ts';

export interface Command {
  summary: string;
  help?: string;
  run(args: string[]): Promise<number>;
}

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z-]*$/.test(name)) return undefined;
  const file = join(commandsDir, `${name}.ts`);
  if (!existsSync(file)) return undefined;
  return (await import(file)) as Command;
}

async function usage(): Promise<string> {
  const lines = ['usage: ufg <command> [options]', '', 'commands:'];
  for (const name of commandNames()) {
    const c = await loadCommand(name);
    lines.push(`  ${name.padEnd(16)} ${c?.summary ?? ''}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    console.error(`ufg: unknown command '${name}'\n${await usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help ?? `ufg ${name}: ${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (isUserInputError(e)) {
      console.error(`ufg ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
