import { readFileSync } from 'node:fs';
import { inspectModel } from '../../src/core/inspect.js';
import { loadModel } from '../../src/node/modelLoader.js';
import { inspectLoaded } from '../../src/node/inspectReport.js';
const f = process.argv[2]!;
try { inspectModel(new Uint8Array(readFileSync(f)), 'x'); console.log('core ok'); } catch (e) { console.log('core', e); }
try { await inspectLoaded(await loadModel(f)); console.log('loaded ok'); } catch (e) { console.log('loaded', e); }
