// Worker-thread entry for trace-batch shards (loaded by piscina from dist/).
import { announceWorkerLoaded } from '../shards/worker-loaded.js';
import { runTraceShard } from './trace-batch.js';

announceWorkerLoaded();

export default runTraceShard;
