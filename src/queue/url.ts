// The Redis URL of a queue, checked before anything connects (this file loads no client, so
// the command line can check --queue without loading the queue's libraries).

export interface RedisTarget {
  url: string;
  /** The URL without its password, for messages. */
  display: string;
}

/** Checks a redis://HOST:PORT[/DB] (or rediss://) URL; throws with the reason. */
export function parseRedisUrl(text: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL: give redis://HOST:PORT[/DB]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`"${text}": the scheme must be redis:// or rediss://, not ${u.protocol}//`);
  if (u.hostname === '') throw new Error(`"${text}" names no host: give redis://HOST:PORT[/DB]`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`"${text}": the path must be a database number (/0, /1, ...), not /${db}`);
  if (u.search !== '' || u.hash !== '') throw new Error(`"${text}": options after ? or # are not supported`);
  const shown = new URL(u.href);
  if (shown.password !== '') shown.password = '***';
  return { url: u.href, display: shown.href.replace(/\/$/, '') };
}
