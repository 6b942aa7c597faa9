// Scratch storage in a browser: no file system, so the data stays in memory (chunks of the
// sizes written), read back by offset as from a file.
import type * as Node from '../node/spill.js';

/** Bytes written and read back by offset, kept in memory. */
export class SpillFile implements Pick<Node.SpillFile, 'write' | 'read' | 'close'> {
  private chunks: { at: number; bytes: Uint8Array }[] = [];

  write(bytes: Uint8Array, at: number): void {
    this.chunks.push({ at, bytes: bytes.slice() });
  }

  read(into: Uint8Array, at: number): void {
    let filled = 0;
    for (const c of this.chunks) {
      const from = Math.max(at + filled, c.at);
      const to = Math.min(at + into.byteLength, c.at + c.bytes.byteLength);
      if (from >= to || from !== at + filled) continue;
      into.set(c.bytes.subarray(from - c.at, to - c.at), filled);
      filled = to - at;
    }
    if (filled < into.byteLength) throw new Error('mfrsim: spilled data ended early');
  }

  close(): void {
    this.chunks = [];
  }
}
