// Worker-thread entry for fleet shards (loaded by piscina from dist/).
import { runShard } from './run.js';
import { announceWorkerLoaded } from '../shards/worker-loaded.js';

announceWorkerLoaded();

export default runShard;
