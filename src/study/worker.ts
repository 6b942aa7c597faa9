// Worker-thread entry for study shards (loaded by piscina from dist/).
import { runStudyShard } from './shard.js';

export default runStudyShard;
