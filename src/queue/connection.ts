// Redis connections for the coordinator and the workers, and a probe that fails in seconds
// (wrong host or port, not a Redis, too old) before anything waits on a connection that
// ioredis would otherwise retry for ever.
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './url.js';

/** BullMQ's own minimum (it needs Lua scripts and streams of Redis 5). */
const MIN_REDIS = [5, 0, 0];
const PROBE_TIMEOUT_MS = 3000;

/**
 * A client for long-lived use: it reconnects after Redis restarts, and commands wait for
 * the connection (BullMQ's workers require maxRetriesPerRequest null).
 */
export function redisClient(target: RedisTarget, name: string): Redis {
  const opts: RedisOptions = { maxRetriesPerRequest: null, connectionName: name };
  return new Redis(target.url, opts);
}

/** Connects once, without retries, checks the server is a Redis BullMQ can use, and disconnects. */
export async function probeRedis(target: RedisTarget): Promise<string> {
  const client = new Redis(target.url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    commandTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // The INFO below is the ready check, under commandTimeout: ioredis's own, and its
    // CLIENT SETINFO on connecting, would wait longer for a server that does not answer.
    enableReadyCheck: false,
    disableClientInfo: true,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ...) arrives as an event; the awaited call only
  // says that the connection closed.
  let socketError: unknown;
  client.on('error', (err: unknown) => (socketError ??= err));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? /valkey_version:([\d.]+)/.exec(info)?.[1];
    if (version === undefined) throw new Error('the server does not say which Redis version it is');
    const parts = version.split('.').map(Number);
    const first = MIN_REDIS.findIndex((m, i) => (parts[i] ?? 0) !== m);
    if (first >= 0 && (parts[first] ?? 0) < MIN_REDIS[first]!) throw new Error(`Redis ${version} is too old: the job queue needs ${MIN_REDIS.join('.')} or later`);
    return version;
  } catch (err) {
    throw new Error(`cannot use Redis at ${target.display}: ${reason(socketError ?? err)}`);
  } finally {
    client.disconnect();
  }
}

function reason(err: unknown): string {
  const e = err as { message?: string; code?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused (is redis-server running, and on this port?)';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (/timed? ?out/i.test(e.message ?? '')) return `no answer within ${PROBE_TIMEOUT_MS / 1000} s (is this a Redis server?)`;
  return e.message ?? String(err);
}
