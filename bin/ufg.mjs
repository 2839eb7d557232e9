#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so no build step stands between a checkout and `ufg`.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
