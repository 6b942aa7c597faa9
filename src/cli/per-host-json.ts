// A JSON document with one very long array (a fleet's per-host figures), written in bounded
// memory: the array's items go to a temporary file as they arrive, and the document is
// assembled around them at the end. The text is what JSON.stringify(doc, replacer, 2)
// gives, without ever holding the whole array (a million hosts would exceed the longest
// string V8 can build).
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { AtomicFile } from '../io/atomic-file.js';

type Replacer = (key: string, value: unknown) => unknown;

const PLACEHOLDER = '\u0000mfrsim-streamed-array\u0000';

export class StreamedArrayJson {
  private readonly dir = mkdtempSync(join(tmpdir(), 'mfrsim-json-'));
  private readonly path = join(this.dir, 'items');
  private fd = openSync(this.path, 'w');
  private count = 0;
  private pending = '';

  constructor(private readonly replacer?: Replacer) {}

  /** Appends one item of the array. */
  push(item: unknown): void {
    // Items sit at depth 2 of the document: four spaces in.
    const text = JSON.stringify(item, this.replacer, 2).replace(/\n/g, '\n    ');
    this.pending += `${this.count++ === 0 ? '' : ',\n'}    ${text}`;
    if (this.pending.length >= 1 << 20) this.flush();
  }

  /**
   * Writes `doc` to `target` (a path, or a stream such as stdout), its `key` (a top-level
   * key whose value is ignored) holding the items pushed so far; then removes the temporary
   * file.
   */
  async finish(target: string | Writable, doc: Record<string, unknown>, key: string): Promise<void> {
    // A file appears whole or not at all (src/io/atomic-file.ts).
    const file = typeof target === 'string' ? await AtomicFile.create(target) : null;
    const put = async (text: string | Buffer) => {
      const bytes = typeof text === 'string' ? Buffer.from(text) : text;
      if (file) await file.handle.write(bytes);
      else if (!(target as Writable).write(bytes)) await once(target as Writable, 'drain');
    };
    try {
      this.flush();
      this.close();
      const text = `${JSON.stringify({ ...doc, [key]: PLACEHOLDER }, this.replacer, 2)}\n`;
      const [head, tail] = text.split(JSON.stringify(PLACEHOLDER)) as [string, string];
      await put(head);
      if (this.count === 0) {
        await put('[]');
      } else {
        await put('[\n');
        for await (const chunk of createReadStream(this.path)) await put(chunk as Buffer);
        await put('\n  ]');
      }
      await put(tail);
      await file?.commit();
    } finally {
      await file?.discard();
      this.discard();
    }
  }

  /** Removes the temporary file without writing the document. */
  discard(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.pending.length > 0) writeSync(this.fd, this.pending);
    this.pending = '';
  }
}
