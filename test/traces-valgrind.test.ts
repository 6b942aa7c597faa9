// A real lackey trace: a tiny C program compiled and run under valgrind here.
import { execFileSync, spawnSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTrace } from '../src/traces/open.js';
import { ACCESS_IFETCH, ACCESS_READ, ACCESS_WRITE } from '../src/traces/types.js';
import { hasTool, tempDir, writeFile } from './traces-fixtures.js';

const PROGRAM = `
#include <stdio.h>
static volatile int data[1024];
int main(void) {
  fprintf(stderr, "data=%p\\n", (void *)data);
  for (int i = 0; i < 1024; i++) data[i] = i;
  int sum = 0;
  for (int i = 0; i < 1024; i++) sum += data[i];
  return sum == 523776 ? 0 : 1;
}
`;

const missing = ['valgrind', 'gcc'].filter((tool) => !hasTool(tool));

test('a lackey trace recorded by valgrind reads back with the program\'s accesses', async () => {
  if (missing.length > 0) {
    console.log(`traces-valgrind: skipped, ${missing.join(' and ')} not installed`);
    return;
  }
  const dir = tempDir();
  const source = writeFile(dir, 'prog.c', PROGRAM);
  const binary = join(dir, 'prog');
  execFileSync('gcc', ['-O1', '-o', binary, source]);
  // The trace goes to stdout (--log-fd=1); the program prints its array's address on stderr.
  const tracePath = join(dir, 'prog.lackey');
  const out = openSync(tracePath, 'w');
  const run = spawnSync('valgrind', ['--tool=lackey', '--trace-mem=yes', '--log-fd=1', binary], {
    stdio: ['ignore', out, 'pipe'],
    encoding: 'utf8',
  });
  closeSync(out);
  assert.is(run.status, 0, run.stderr);
  const data = Number(/data=(0x[0-9a-f]+)/.exec(run.stderr)?.[1]);

  const trace = await openTrace(tracePath);
  assert.is(trace.format, 'lackey');
  assert.not.ok(trace.physical);
  const counts = [0, 0, 0];
  let arrayWrites = 0;
  let arrayReads = 0;
  let events = 0;
  for await (const b of trace) {
    for (let i = 0; i < b.length; i++) {
      counts[b.kind[i]]++;
      if (b.addr[i] >= data && b.addr[i] < data + 4096 && b.size[i] === 4) {
        if (b.kind[i] === ACCESS_WRITE) arrayWrites++;
        else if (b.kind[i] === ACCESS_READ) arrayReads++;
      }
      assert.is(b.time[i], events++);
    }
  }
  assert.ok(counts[ACCESS_IFETCH] > 10_000, `instruction fetches: ${counts[ACCESS_IFETCH]}`);
  assert.ok(counts[ACCESS_READ] > 1_000 && counts[ACCESS_WRITE] > 1_000);
  assert.is(arrayWrites, 1024);
  assert.is(arrayReads, 1024);
  assert.is(trace.bytesRead, trace.fileSize);
});

test.run();
