// Worker-thread entry for trace-batch shards (loaded by piscina from dist/).
import { runTraceShard } from './trace-batch.js';

export default runTraceShard;
