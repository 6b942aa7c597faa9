// Content digests (SHA-256, hex) for shard plans: what names a run's jobs on a job queue.
import { createHash } from 'node:crypto';

/** SHA-256 of the byte ranges, in order, as hex. */
export function sha256Hex(parts: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
