// Scratch storage for data that outgrows memory (the error generator's external sort): a
// temporary file in Node, removed when closed.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes written and read back by offset. */
export class SpillFile {
  private readonly dir = mkdtempSync(join(tmpdir(), 'mfrsim-spill-'));
  private readonly fd = openSync(join(this.dir, 'data'), 'w+');

  /** Writes all of `bytes` at byte offset `at`. */
  write(bytes: Uint8Array, at: number): void {
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, at + done);
  }

  /** Fills `into` from byte offset `at`; fails if the data ends first. */
  read(into: Uint8Array, at: number): void {
    for (let got = 0; got < into.byteLength; ) {
      const r = readSync(this.fd, into, got, into.byteLength - got, at + got);
      if (r === 0) throw new Error('mfrsim: a spill file ended early');
      got += r;
    }
  }

  /** Removes the file. */
  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
