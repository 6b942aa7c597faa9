// Content digests in a browser: only a job queue needs them, and the queue is Node-only.
import type * as Node from '../node/digest.js';

export const sha256Hex: typeof Node.sha256Hex = () => {
  throw new Error('shard plans are digested for the job queue, which runs in Node only');
};
