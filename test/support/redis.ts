import { randomBytes } from 'node:crypto';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';

/**
 * Deletes every key under `prefix` (SCAN MATCH + UNLINK). Given a URL it opens a connection of
 * its own and closes it; a connection passed in is left open for its owner.
 */
export async function deleteRedisPrefix(target: RedisConnection | string, prefix: string): Promise<void> {
  const client = typeof target === 'string' ? await createRedisConnection(target) : target;
  try {
    for await (const keys of client.scanIterator({ MATCH: redisKeys(prefix).pattern, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    if (typeof target === 'string') await client.quit();
  }
}

export interface RedisTestKeyspace {
  /** The file's one shared connection, opened on first use. */
  connection(): Promise<RedisConnection>;
  /** A fresh key prefix, remembered for `cleanup`. */
  newPrefix(): string;
  /** Deletes the keys under every prefix handed out, then drops the connection. */
  cleanup(): Promise<void>;
}

/** One connection for a test file; every test gets its own key prefix, all deleted by `cleanup`. */
export function redisTestKeyspace(url: string): RedisTestKeyspace {
  let shared: Promise<RedisConnection> | undefined;
  const prefixes: string[] = [];
  return {
    connection() {
      shared ??= createRedisConnection(url);
      return shared;
    },
    newPrefix() {
      const prefix = `allot-test-${process.pid}-${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      return prefix;
    },
    async cleanup() {
      if (shared === undefined) return;
      const client = await shared;
      for (const prefix of prefixes) await deleteRedisPrefix(client, prefix);
      client.destroy();
    },
  };
}

/**
 * Runs `action` and counts the commands each name ran meanwhile (INFO commandstats, reset
 * first): only meaningful on a Redis nobody else uses.
 */
export async function commandCallsDuring(
  client: RedisConnection,
  action: () => Promise<unknown>,
): Promise<Record<string, number>> {
  await client.configResetStat();
  await action();
  const info = await client.info('commandstats');
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  delete calls['config|resetstat']; // this helper's own
  return calls;
}
