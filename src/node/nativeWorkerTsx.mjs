// Starts the native backend's worker from its TypeScript source (tests, benchmarks): Node 20 does not
// apply `--import tsx` to a worker's own entry file, so tsx is registered here first. The extension runs
// the bundle (dist/nativeWorker.cjs) instead.
import { register } from 'tsx/esm/api';

register();
await import('./nativeWorker.ts');
