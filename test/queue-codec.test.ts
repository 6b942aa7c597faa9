// The job queue's codec: what structured cloning keeps between threads survives the trip
// through Redis as JSON text (shard results merged from the queue must equal local ones).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode } from '../src/queue/codec.js';
import { jobId, runDigest } from '../src/queue/job.js';
import { parseRedisUrl } from '../src/queue/url.js';

test('typed arrays, bigints, -0, NaN and infinities come back as they went', () => {
  const value = {
    host: Uint32Array.of(0, 7, 2 ** 32 - 1),
    phys: Float64Array.of(2 ** 32 + 4096, -0, Number.MAX_VALUE),
    flags: Uint8Array.of(1, 2, 255),
    // A view into a larger buffer: only its own bytes travel.
    part: new Uint16Array(Uint16Array.of(1, 2, 3, 4).buffer, 2, 2),
    addr: 0x7eff00200000n,
    zero: -0,
    nan: NaN,
    big: [Infinity, -Infinity],
    nested: [{ s: 'text', n: 1.5, none: null }],
  };
  const back = decode<typeof value>(encode(value));
  assert.instance(back.host, Uint32Array);
  assert.equal([...back.host], [...value.host]);
  assert.instance(back.phys, Float64Array);
  assert.ok(Object.is(back.phys[1], -0));
  assert.equal([...back.flags], [1, 2, 255]);
  assert.equal([...back.part], [2, 3]);
  assert.is(back.addr, 0x7eff00200000n);
  assert.ok(Object.is(back.zero, -0));
  assert.ok(Number.isNaN(back.nan));
  assert.equal(back.big, [Infinity, -Infinity]);
  assert.equal(back.nested, value.nested);
});

test('a run digest changes with the version, the description and any input file; job ids with the key', () => {
  const files = [{ path: 'a.mfrerr', absolute: '/x/a.mfrerr', sha256: 'aa', bytes: 1 }];
  const base = runDigest('0.1.0', 'study', { seed: 1 }, files);
  assert.is(runDigest('0.1.0', 'study', { seed: 1 }, files), base);
  assert.is.not(runDigest('0.2.0', 'study', { seed: 1 }, files), base);
  assert.is.not(runDigest('0.1.0', 'study', { seed: 2 }, files), base);
  assert.is.not(runDigest('0.1.0', 'study', { seed: 1 }, [{ ...files[0]!, sha256: 'ab' }]), base);
  assert.is.not(jobId(base, { run: 'keep', firstHost: 0, hostCount: 5 }), jobId(base, { run: 'keep', firstHost: 5, hostCount: 5 }));
  assert.not.match(jobId(base, { run: 'keep' }), /:/);
});

test('Redis URLs: redis:// or rediss://, a host, an optional database number; passwords hidden in messages', () => {
  assert.is(parseRedisUrl('redis://:secret@queue.example:6380/2').display, 'redis://:***@queue.example:6380/2');
  assert.is(parseRedisUrl('rediss://queue.example').display, 'rediss://queue.example');
  assert.throws(() => parseRedisUrl('queue.example:6379'), /not a URL|scheme must be redis/);
  assert.throws(() => parseRedisUrl('http://queue.example'), /scheme must be redis:\/\/ or rediss:\/\//);
  assert.throws(() => parseRedisUrl('redis://queue.example/jobs'), /database number/);
});

test.run();
