// Worker-thread entry for fleet shards (loaded by piscina from dist/).
import { runShard } from './fleet-run.js';

export default runShard;
