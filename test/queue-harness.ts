// Helpers for the job-queue tests: a real redis-server on a free 127.0.0.1 port without
// persistence, `mfrsim worker` processes whose log lines can be awaited, and the CLI as a
// child process. The CLI runs the compiled dist/ (npm test builds first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The redis-server binary, or null when this machine has none. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const path = `${dir}/redis-server`;
    if (dir !== '' && existsSync(path)) return path;
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

export async function startRedis(binary: string): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (err) {
      if (i > 50) throw new Error(`redis-server did not start on port ${port}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
  return {
    url,
    client,
    async stop() {
      client.disconnect();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** A child process whose stderr and stdout lines are kept and can be awaited. */
export class Child {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], opts: { cwd?: string } = {}) {
    this.proc = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // 'close', not 'exit': the output is all read by then.
    this.exited = new Promise((resolve) => this.proc.once('close', (code) => resolve(code)));
  }

  /** Waits until stderr matches (every `pattern` match counted) `count` times. */
  async waitFor(pattern: RegExp, count = 1, timeoutMs = 60_000): Promise<void> {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    const started = Date.now();
    while ((this.stderr.match(global)?.length ?? 0) < count) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern} x${count}; stderr:\n${this.stderr}`);
      if (this.proc.exitCode !== null) throw new Error(`exited (${this.proc.exitCode}) before ${pattern} x${count}; stderr:\n${this.stderr}`);
      await sleep(20);
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.proc.kill(signal);
    return this.exited;
  }
}

/** `mfrsim worker URL` with a short stall interval, ready when it says so. */
export async function startWorker(url: string, ...args: string[]): Promise<Child> {
  const w = new Child(['worker', url, '--stall-interval', '1', ...args]);
  await w.waitFor(/^worker: mfrsim/m);
  return w;
}

/** Runs the CLI to the end. */
export async function mfrsim(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  const c = new Child(args, opts);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr, seconds: (performance.now() - started) / 1000 };
}

/** Job ids of the shards a worker finished, from its log. */
export function shardsDone(...workers: Child[]): string[] {
  return workers.flatMap((w) => [...w.stderr.matchAll(/^([0-9a-f]{12}) .*: done in /gm)].map((m) => m[1]!));
}

/** A JSON report without its wall-clock figures. */
export function withoutTimings(json: string, fields: readonly string[]): unknown {
  return JSON.parse(json, (key, value: unknown) => (fields.includes(key) ? undefined : value));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

