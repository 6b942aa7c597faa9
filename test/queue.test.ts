// Studies, fleet replays and trace batches on the Redis job queue, against a real
// redis-server: the merged figures equal a local run's whatever the workers, a worker killed
// mid-shard or a coordinator killed and restarted changes nothing (and finished shards are not
// run again), a failing shard fails the run by name, a worker of another version refuses
// jobs, and a Redis that cannot be reached fails in seconds. Workers and coordinators are
// real processes running dist/ (npm test builds first).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorBatchBuilder, FLAG_UE } from '../src/errors/batch.js';
import { ErrorStreamWriter } from '../src/errors/format.js';
import { runTraceBatch } from '../src/fleet/trace-batch.js';
import { QueueExecutor } from '../src/queue/coordinator.js';
import { MFRSIM_VERSION } from '../src/queue/job.js';
import { buildReport } from '../src/study/report.js';
import { runStudy } from '../src/study/run.js';
import { loadScenario } from '../src/study/scenario.js';
import { Child, findRedisServer, freePort, mfrsim, shardsDone, sleep, startRedis, startWorker, withoutTimings, type RedisServer } from './queue-harness.js';

const GiB = 2 ** 30;
const STUDY_TIMINGS = ['wallSeconds', 'hostYearsPerSecond'];
const REPLAY_TIMINGS = ['wallSeconds', 'eventsPerSecond', 'replaySeconds'];
const binary = findRedisServer();
let redis: RedisServer;
let dir: string;
const workers: Child[] = [];

// Hosts per shard: 5 for the local run, 2 and 1 on the queue; the figures must not change.

/** A small study: 24 hosts x 2 years, UEs on most hosts, 2 hosts per shard (72 jobs). */
function scenario(accessesPerStep: number) {
  return {
    name: 'queue-test', seed: 7, years: 2, stepsPerYear: 4,
    fleet: { hosts: 24, memory: { sockets: 1, channelsPerSocket: 2, dimmsPerChannel: 1, ranksPerDimm: 2, dimmGiB: 8, ecc: 'chipkill' }, pools: { '1G': 14 } },
    workloads: [
      { name: 'vm', vmsPerHost: 2, memoryGiB: 4, hugepage: '1G', access: { accessesPerStep } },
      { name: 'no-handler', vmsPerHost: 1, memoryGiB: 4, hugepage: '1G', handlesSigbus: false, access: { accessesPerStep } },
    ],
    errors: { generate: { mode: 'incident', incident: { perHostYear: 0.3 } } },
  };
}

/** Lackey lines touching `pages` 2 MiB hugepages from 512 MiB, `passes` times. */
function lackey(pages: number, passes: number): string {
  const lines = ['==1== Lackey, an example Valgrind tool'];
  for (let p = 0; p < passes; p++) {
    for (let off = 0; off < pages * 2 ** 21; off += 4096) lines.push(`${p % 2 ? ' S' : ' L'} ${(0x2000_0000 + off).toString(16)},8`);
  }
  return `${lines.join('\n')}\n`;
}

/** An error stream: UEs on every other host, in the pools' first hugepages. */
async function errorStream(path: string, hosts: number): Promise<void> {
  const w = await ErrorStreamWriter.create(path, { flags: 0, hostCount: hosts, seed: 0, physBase: 2 ** 32, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  for (let h = 0; h < hosts; h += 2) for (let k = 0; k < 3; k++) b.push(h * 10 + k, h, 2 ** 32 + k * GiB + (h + 1) * 4096 * 7, FLAG_UE, 255, 0, h);
  await w.write(b.view());
  await w.close();
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
}

/** Kills the test's workers and empties Redis, so that no job of one test reaches the next. */
async function reset(): Promise<void> {
  await stopWorkers();
  await redis?.client.flushall();
}

if (binary === null) {
  test.skip('queue tests: redis-server is not installed (apt-get install redis-server)', () => {});
  process.stderr.write('queue tests SKIPPED: redis-server not found on PATH or in /usr/bin\n');
} else {
  test.before(async () => {
    redis = await startRedis(binary);
    dir = await mkdtemp(join(tmpdir(), 'mfrsim-queue-'));
    await writeFile(join(dir, 'study.json'), JSON.stringify(scenario(200)));
    await writeFile(join(dir, 'slow.json'), JSON.stringify({ ...scenario(40_000), fleet: { ...scenario(0).fleet, hosts: 6 } }));
    await writeFile(join(dir, 'fleet.json'), JSON.stringify({
      hosts: 12, seed: 3,
      host: { hugepages: { '1G': 8 }, vms: [{ memory: 4 * GiB, hugepage: '1G', policy: 'keep' }, { memory: 2 * GiB, hugepage: '1G', policy: 'default', handlesSigbus: false }] },
      poison: { fraction: 0.2 },
      workload: { pattern: 'random', accessesPerHost: 20_000, writeFraction: 0.3 },
    }));
    await errorStream(join(dir, 'fleet.mfrerr'), 12);
    await writeFile(join(dir, 'a.lackey'), lackey(3, 2));
    await writeFile(join(dir, 'b.lackey'), lackey(5, 1));
    // The study's local run, that the queued runs must equal.
    const local = await mfrsim(['study', join(dir, 'study.json'), '--json', join(dir, 'local.json'), '--csv', join(dir, 'local.csv'), '--hosts-per-shard', '5']);
    assert.is(local.code, 0, local.stderr);
  });

  test.after.each(reset);

  test.after(async () => {
    await reset();
    await redis?.stop();
  });

  test('a study over 3 worker processes equals the local run, JSON and CSV; its results leave Redis afterwards', async () => {
    workers.push(await startWorker(redis.url), await startWorker(redis.url), await startWorker(redis.url, '--concurrency', '2'));
    const q = await mfrsim(['study', join(dir, 'study.json'), '--queue', redis.url, '--json', join(dir, 'queue.json'), '--csv', join(dir, 'queue.csv'), '--hosts-per-shard', '2']);
    assert.is(q.code, 0, q.stderr);
    assert.match(q.stderr, /12 shards, 0 finished earlier and reused, 12 to run/);
    assert.equal(withoutTimings(await readFile(join(dir, 'queue.json'), 'utf8'), STUDY_TIMINGS), withoutTimings(await readFile(join(dir, 'local.json'), 'utf8'), STUDY_TIMINGS));
    assert.is(await readFile(join(dir, 'queue.csv'), 'utf8'), await readFile(join(dir, 'local.csv'), 'utf8'));
    // Every shard ran once, spread over the workers.
    const done = shardsDone(...workers);
    assert.is(done.length, 12);
    assert.is(new Set(done).size, 12);
    assert.ok(workers.filter((w) => shardsDone(w).length > 0).length >= 2, 'the shards spread over the workers');
    assert.equal(await redis.client.keys('mfrsim:run:*'), [], 'the results are deleted once the outputs are written');
  });

  test('a fleet replay with an error stream over 3 workers equals the local run', async () => {
    const args = ['replay', '--fleet', join(dir, 'fleet.json'), '--errors', join(dir, 'fleet.mfrerr'), '--policy', 'keep', '--tlb'];
    const local = await mfrsim([...args, '--json', join(dir, 'fleet-local.json')]);
    assert.is(local.code, 0, local.stderr);
    workers.push(await startWorker(redis.url), await startWorker(redis.url), await startWorker(redis.url));
    const q = await mfrsim([...args, '--json', join(dir, 'fleet-queue.json'), '--queue', redis.url, '--hosts-per-shard', '1']);
    assert.is(q.code, 0, q.stderr);
    const expected = withoutTimings(await readFile(join(dir, 'fleet-local.json'), 'utf8'), REPLAY_TIMINGS) as { sigbus: number; rawPagesPoisoned: number };
    assert.ok(expected.sigbus > 0 && expected.rawPagesPoisoned > 0, 'the fleet replay has something to compare');
    assert.equal(withoutTimings(await readFile(join(dir, 'fleet-queue.json'), 'utf8'), REPLAY_TIMINGS), expected);
    assert.is(shardsDone(...workers).length, 12);
  });

  test('a trace batch (trace x policy) equals the local run, inputs carried in the jobs or read by path', async () => {
    const batch = { traces: [join(dir, 'a.lackey'), join(dir, 'b.lackey')], policies: ['keep', 'default', 'hgm'] as const, options: { poisonFraction: 0.5, seed: 4 } };
    const local = await runTraceBatch({ ...batch, policies: [...batch.policies], workers: 1 });
    assert.equal(local.map((r) => [r.trace, r.policy]), batch.traces.flatMap((t) => batch.policies.map((p) => [t, p])));
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    const strip = (rs: typeof local) => rs.map(({ replaySeconds: _s, eventsPerSecond: _e, ...r }) => r);
    for (const inlineBytes of [1 << 20, 0]) {
      const executor = await QueueExecutor.connect(redis.url, { inlineBytes, pollMs: 100 });
      try {
        const queued = await runTraceBatch({ ...batch, policies: [...batch.policies], executor });
        assert.equal(strip(queued), strip(local), `inputs ${inlineBytes ? 'carried in the jobs' : 'read by path'}`);
        await executor.forget();
      } finally {
        await executor.close();
      }
    }
    assert.match(await readFile(join(dir, 'a.lackey'), 'utf8'), /^==1== Lackey/, 'inputs untouched');
  });

  test('a worker SIGKILLed mid-shard: another worker runs the shard after the stall interval, same figures', async () => {
    const local = await mfrsim(['study', join(dir, 'slow.json'), '--json', join(dir, 'slow-local.json'), '--policies', 'keep,hgm']);
    assert.is(local.code, 0, local.stderr);
    const victim = await startWorker(redis.url);
    const coordinator = new Child(['study', join(dir, 'slow.json'), '--queue', redis.url, '--json', join(dir, 'slow-queue.json'), '--policies', 'keep,hgm', '--hosts-per-shard', '2']);
    await victim.waitFor(/: started \(try 1\)/);
    const killed = /^([0-9a-f]{12}) (.*): started/m.exec(victim.stderr)!;
    await victim.kill('SIGKILL');
    assert.not.match(victim.stderr, new RegExp(`${killed[1]} .*: done`), 'killed before the shard was done');
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    assert.is(await coordinator.exited, 0, coordinator.stderr);
    assert.ok(shardsDone(...workers).includes(killed[1]!), `${killed[2]} ran again on another worker`);
    assert.equal(withoutTimings(await readFile(join(dir, 'slow-queue.json'), 'utf8'), STUDY_TIMINGS), withoutTimings(await readFile(join(dir, 'slow-local.json'), 'utf8'), STUDY_TIMINGS));
  });

  test('a coordinator SIGKILLed and run again resumes: finished shards are reused, not run again', async () => {
    const args = ['study', join(dir, 'study.json'), '--queue', redis.url, '--json', join(dir, 'resumed.json'), '--hosts-per-shard', '1', '--results-ttl', '600'];
    const first = [await startWorker(redis.url), await startWorker(redis.url)];
    workers.push(...first);
    const coordinator = new Child(args);
    await first[0]!.waitFor(/: done in /, 2);
    await coordinator.kill('SIGKILL');
    // The workers finish the shards in hand and leave; the rest stay queued.
    await Promise.all(first.map((w) => w.kill('SIGTERM')));
    for (const w of first) assert.match(w.stderr, /worker: stopped/);
    const before = shardsDone(...first);
    assert.ok(before.length >= 2 && before.length < 24, `${before.length} shards done before the restart`);
    const [key] = await redis.client.keys('mfrsim:run:*');
    const ttl = await redis.client.ttl(key!);
    assert.ok(ttl > 0 && ttl <= 600, `results expire (ttl ${ttl} s)`);

    // Run again: it finds the finished shards' results before any worker takes up the rest.
    const again = new Child(args);
    await again.waitFor(/to run$/m);
    assert.match(again.stderr, new RegExp(`24 shards, ${before.length} finished earlier and reused, ${24 - before.length} to run`));
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    assert.is(await again.exited, 0, again.stderr);
    const all = shardsDone(...workers);
    assert.is(all.length, 24, 'every shard ran exactly once over both attempts');
    assert.is(new Set(all).size, 24);
    assert.equal(withoutTimings(await readFile(join(dir, 'resumed.json'), 'utf8'), STUDY_TIMINGS), withoutTimings(await readFile(join(dir, 'local.json'), 'utf8'), STUDY_TIMINGS));
    assert.is(await redis.client.exists(key!), 0);
  });

  test('a coordinator gone after the last shard, before its outputs: the same run again finds every result', async () => {
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    const scenario = await loadScenario(join(dir, 'study.json'));
    const first = await QueueExecutor.connect(redis.url, { pollMs: 100, resultsTtl: 300 });
    const runs = await runStudy(scenario, { executor: first, hostsPerShard: 12 }).finally(() => first.close());
    // It never got to forget its results: they wait, with their expiry.
    const key = `mfrsim:run:${first.lastRun!.run}`;
    assert.is(await redis.client.hlen(key), 2);
    assert.ok((await redis.client.ttl(key)) > 0);
    await stopWorkers();
    const lines: string[] = [];
    const again = await QueueExecutor.connect(redis.url, { pollMs: 100, log: (l) => lines.push(l) });
    try {
      const rerun = await runStudy(scenario, { executor: again, hostsPerShard: 12 });
      assert.match(lines.join('\n'), /2 shards, 2 finished earlier and reused, 0 to run/);
      assert.equal(buildReport({ ...rerun, wallSeconds: 1 }), buildReport({ ...runs, wallSeconds: 1 }));
      await again.forget();
      assert.is(await redis.client.exists(key), 0);
    } finally {
      await again.close();
    }
  });

  test('jobs lost with Redis (restarted without persistence) are enqueued again by the waiting coordinator', async () => {
    const scenario = await loadScenario(join(dir, 'study.json'));
    const executor = await QueueExecutor.connect(redis.url, { pollMs: 100 });
    try {
      const running = runStudy(scenario, { executor, hostsPerShard: 12 });
      // No worker yet: the 2 jobs wait; then Redis forgets everything.
      while ((await redis.client.llen('mfrsim:shards:wait')) < 2) await sleep(50);
      await redis.client.flushall();
      workers.push(await startWorker(redis.url), await startWorker(redis.url));
      const runs = await running;
      assert.is(shardsDone(...workers).length, 2);
      const local = JSON.parse(await readFile(join(dir, 'local.json'), 'utf8')) as { policies: unknown };
      assert.equal(JSON.parse(JSON.stringify(buildReport(runs).policies)), local.policies);
    } finally {
      await executor.close();
    }
  });

  test('a shard that fails deterministically fails the run after its tries, naming the shard and the reason', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'mfrsim-queue-bad-'));
    await writeFile(join(bad, 'good.lackey'), lackey(2, 1));
    // Past the 64 KiB format detection reads, so that only the replay finds it.
    await writeFile(join(bad, 'broken.lackey'), `${lackey(12, 1)}not a lackey line\n`);
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    const out = join(bad, 'out.json');
    const r = await mfrsim(['replay', '--traces', join(bad, '*.lackey'), '--policy', 'keep,default', '--queue', redis.url, '--attempts', '2', '--json', out]);
    assert.is(r.code, 1);
    // Both shards of the broken trace fail; the run names the first it sees.
    const named = (text: string, tries: string) => ['keep', 'default'].some((p) => text.includes(`shard "${join(bad, 'broken.lackey')} ${p}" failed${tries}: ${join(bad, 'broken.lackey')}:6146: not a lackey record`));
    assert.ok(named(r.stderr, ' after 2 tries'), r.stderr);
    assert.not.ok(await readFile(out).catch(() => null), 'no output written');
    // The same batch fails the same way without the queue.
    const here = await mfrsim(['replay', '--traces', join(bad, '*.lackey'), '--policy', 'keep,default']);
    assert.is(here.code, 1);
    assert.ok(named(here.stderr, ''), here.stderr);
  });

  test('a worker of another mfrsim version refuses the job, naming both versions', async () => {
    const w = await startWorker(redis.url);
    workers.push(w);
    const executor = await QueueExecutor.connect(redis.url, { version: '0.0.0-other', attempts: 1, pollMs: 100 });
    try {
      const err = await runStudy(await loadScenario(join(dir, 'study.json')), { executor, hostsPerShard: 12 }).then(() => null, (e: Error) => e);
      assert.ok(err, 'the run fails');
      const refusal = `a worker running mfrsim ${MFRSIM_VERSION} refused it: the job needs mfrsim 0.0.0-other`;
      assert.is(err!.message, `shard "hosts 0-11" failed after 1 try: ${refusal}`);
      assert.ok(w.stderr.includes(`hosts 0-11: failed: ${refusal}`), w.stderr);
      assert.is(await redis.client.llen('mfrsim:shards:wait'), 0, 'the run\'s other jobs are withdrawn');
    } finally {
      await executor.close();
    }
  });

  test('an unreachable or wrong Redis fails in seconds with the reason', async () => {
    /** How long connecting takes to fail, in this process (a child's start-up would blur it on a busy machine). */
    const failsWithin = async (url: string): Promise<{ seconds: number; message: string }> => {
      const started = performance.now();
      const err = await QueueExecutor.connect(url).then(async (q) => (await q.close(), null), (e: Error) => e);
      assert.ok(err, `${url}: connecting fails`);
      return { seconds: (performance.now() - started) / 1000, message: err!.message };
    };
    const closed = await freePort();
    const refusedUrl = `redis://127.0.0.1:${closed}`;
    const refused = await failsWithin(refusedUrl);
    assert.is(refused.message, `cannot use Redis at ${refusedUrl}: connection refused (is redis-server running, and on this port?)`);
    assert.ok(refused.seconds < 2, `${refused.seconds} s`);
    // The commands say the same and exit 1, the worker too.
    for (const args of [['study', join(dir, 'study.json'), '--queue', refusedUrl], ['worker', refusedUrl]]) {
      const r = await mfrsim(args);
      assert.is(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(refused.message), r.stderr);
    }
    // A server that accepts the connection and never answers.
    const silent = createServer(() => {});
    const port = await new Promise<number>((r) => silent.listen(0, '127.0.0.1', () => r((silent.address() as { port: number }).port)));
    try {
      const mute = await failsWithin(`redis://127.0.0.1:${port}`);
      assert.match(mute.message, /no answer within 3 s \(is this a Redis server\?\)/);
      assert.ok(mute.seconds < 5, `${mute.seconds} s`);
      const r = await mfrsim(['replay', '--fleet', join(dir, 'fleet.json'), '--queue', `redis://127.0.0.1:${port}`]);
      assert.is(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(mute.message), r.stderr);
    } finally {
      silent.close();
    }
    const wrong = await mfrsim(['study', '--queue', 'http://127.0.0.1:6379']);
    assert.is.not(wrong.code, 0);
    assert.match(wrong.stderr, /the scheme must be redis:\/\/ or rediss:\/\//);
  });
}

test.run();
