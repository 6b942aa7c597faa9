// Worker-thread entry for fleet shards (loaded by piscina from dist/).
import { runShard } from './run.js';

export default runShard;
