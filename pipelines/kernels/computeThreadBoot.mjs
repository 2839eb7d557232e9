// Entry of a compute thread: worker threads do not inherit the parent's tsx loader, so register it
// here before loading the TypeScript that owns the ONNX Runtime sessions.
import { register } from 'tsx/esm/api';
register();
await import('./computeThread.ts');
