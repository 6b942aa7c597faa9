// Worker-thread entry for study shards (loaded by piscina from dist/).
import { announceWorkerLoaded } from '../shards/worker-loaded.js';
import { runStudyShard } from './shard.js';

announceWorkerLoaded();

export default runStudyShard;
