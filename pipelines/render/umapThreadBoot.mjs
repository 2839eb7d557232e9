// Entry of a UMAP layout thread: worker threads do not inherit the parent's tsx loader, so
// register it here before loading the TypeScript.
import { register } from 'tsx/esm/api';
register();
await import('./umapThread.ts');
