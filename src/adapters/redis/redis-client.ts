import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createClient, type RedisClientType } from 'redis';

/**
 * A connected node-redis client (RESP3, default modules). The Redis adapters take one of these
 * and never close it: whoever created it owns it. The type is node-redis's own, on purpose:
 * it only appears in adapter factories and the composition root, never in a port.
 */
export type RedisConnection = RedisClientType;

export interface RedisConnectionOptions {
  /**
   * Connection errors (refused, reset, ...). node-redis keeps reconnecting on its own; without
   * a listener an `error` event would crash the process. Default: one line on stderr per outage.
   */
  onError?: (err: unknown) => void;
  /** Give up if the first connection is not up after this long (default 10 s). */
  connectTimeoutMs?: number;
}

/** Connects to `url` (`redis://[user:pass@]host:port[/db]`); rejects if Redis stays unreachable. */
export async function createRedisConnection(
  url: string,
  opts: RedisConnectionOptions = {},
): Promise<RedisConnection> {
  return connect(createClient({ url }), opts, redact(url));
}

/** The URL for error messages, without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'Redis (unparseable URL)';
  }
}

/**
 * A second connection with the same settings. Blocking reads (XREADGROUP BLOCK) hold their
 * connection for the whole wait, so each blocking reader needs its own.
 */
export async function duplicateConnection(
  client: RedisConnection,
  opts: RedisConnectionOptions = {},
): Promise<RedisConnection> {
  return connect(client.duplicate(), opts, 'a duplicated connection');
}

async function connect(
  client: RedisConnection,
  opts: RedisConnectionOptions,
  what: string,
): Promise<RedisConnection> {
  client.on('error', opts.onError ?? oncePerOutage(client));
  // node-redis retries a refused first connection forever; a server that cannot reach Redis at
  // startup should say so instead of hanging.
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis: could not connect to ${what} in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), timeout]);
    return client;
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Reconnection attempts repeat the same error every few hundred ms: report the first only. */
function oncePerOutage(client: RedisConnection): (err: unknown) => void {
  let reported = false;
  client.on('ready', () => {
    reported = false;
  });
  return (err) => {
    if (reported) return;
    reported = true;
    console.error(`Redis connection error (retrying): ${err instanceof Error ? err.message : String(err)}`);
  };
}

/** A Lua script of `./lua/`, with its SHA1 for EVALSHA. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

const scripts = new Map<string, LuaScript>();

/**
 * Reads `lua/<name>` once per process. The scripts sit next to this file in the source tree;
 * the compiled build (`dist/`) does not copy non-TS files, so from there they are read from
 * `src/` of the same checkout.
 */
export function luaScript(name: string): LuaScript {
  const cached = scripts.get(name);
  if (cached !== undefined) return cached;
  const found = [
    new URL(`./lua/${name}`, import.meta.url),
    new URL(`../../../src/adapters/redis/lua/${name}`, import.meta.url),
  ].find((u) => existsSync(u));
  if (found === undefined) throw new Error(`Lua script ${name} not found next to ${import.meta.url}`);
  const source = readFileSync(found, 'utf8');
  const script = { source, sha: createHash('sha1').update(source).digest('hex') };
  scripts.set(name, script);
  return script;
}

/** Redis lost its script cache (restart, failover, SCRIPT FLUSH): SCRIPT LOAD and run again. */
export const isNoScript = (err: unknown): boolean =>
  err instanceof Error && err.message.startsWith('NOSCRIPT');

/** EVALSHA; after NOSCRIPT, loads the script and retries (safe: a NOSCRIPT call ran nothing). */
export async function evalLua(
  client: RedisConnection,
  script: LuaScript,
  keys: string[],
  args: string[] = [],
): Promise<unknown> {
  try {
    return await client.evalSha(script.sha, { keys, arguments: args });
  } catch (err) {
    if (!isNoScript(err)) throw err;
    await client.scriptLoad(script.source);
    return client.evalSha(script.sha, { keys, arguments: args });
  }
}
