// The lackey reader's fast path (parseRun) against parseLine alone, on random mixes of the
// common records and every other form a line can take: the same events, or the same error
// at the same line.
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAccessBatch } from '../src/traces/batch.js';
import { LackeyParser } from '../src/traces/lackey.js';
import { LineScanner, lineBatches, type LineParser } from '../src/traces/lines.js';
import { memorySource } from '../src/traces/source.js';

/** parseLine alone: the reader as it was before the fast path. */
function lineByLine(): LineParser {
  const lackey = new LackeyParser();
  return { maxEventsPerLine: lackey.maxEventsPerLine, skipped: 0, parseLine: (buf, start, limit, out) => lackey.parseLine(buf, start, limit, out) };
}

async function read(parser: LineParser, text: string, chunk: number): Promise<number[] | string> {
  const events: number[] = [];
  try {
    const scanner = new LineScanner(memorySource(Buffer.from(text, 'latin1')), 't.lackey', chunk, chunk);
    for await (const b of lineBatches(scanner, parser, createAccessBatch(64, false))) {
      for (let i = 0; i < b.length; i++) events.push(b.addr[i]!, b.kind[i]!, b.size[i]!, b.time[i]!);
    }
  } catch (err) {
    return (err as Error).message;
  }
  return events;
}

const hex = fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }).map((v) => v.toString(16));
const line = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M '), hex, fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(65535, 65536))).map(([op, a, s]) => `${op}${a},${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('==1== Lackey', '', '   ', 'I 10,1', ' L  20,4 ', ' S 30,8\r', ' X 10,1', ' L 0x10,4', ' L ,4', ' L 10,', ' L 10;4', 'I  ABCDEF0123456,1') },
);

test('the fast path reads what parseLine reads, events and errors alike', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 60 }), fc.boolean(), fc.integer({ min: 64, max: 512 }), async (lines, newlineAtEnd, chunk) => {
      const text = lines.join('\n') + (newlineAtEnd ? '\n' : '');
      assert.equal(await read(new LackeyParser(), text, chunk), await read(lineByLine(), text, chunk));
    }),
    { numRuns: 300 },
  );
});

test.run();
