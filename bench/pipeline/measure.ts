// What the pipeline bench measures and checks, apart from running the consumers: CPU per event
// (this process and the Redis server), the Parquet files written, and the clean-up of a phase's
// Redis keys and JetStream stream.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';

/** CPU spent per event over a stage: this process (all threads, DuckDB's too) and Redis. */
export interface Cpu {
  nodeUs: number;
  redisUs: number;
}

export async function unlinkPrefix(client: RedisConnection, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: redisKeys(prefix).pattern, COUNT: 1000 })) {
    if (keys.length > 0) await client.unlink(keys);
  }
}

export async function deleteStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function countParquet(dir: string): Promise<{ rows: number; ids: number; files: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = join(dir, 'events', '**', '*.parquet').replaceAll("'", "''");
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT filename) AS files
         FROM read_parquet('${glob}', filename = true)`,
    );
    const [n, ids, files] = reader.getRows()[0]!;
    return { rows: Number(n), ids: Number(ids), files: Number(files) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Seconds of CPU the Redis server has used (all its clients: the machine is shared). */
async function redisCpuSeconds(client: RedisConnection): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Starts measuring CPU; the returned function stops and gives µs per event (`events` events). */
export async function meter(client: RedisConnection, events: number): Promise<() => Promise<Cpu>> {
  const node = process.cpuUsage();
  const redis = await redisCpuSeconds(client);
  return async () => {
    const n = process.cpuUsage(node);
    return {
      nodeUs: (n.user + n.system) / events,
      redisUs: (((await redisCpuSeconds(client)) - redis) * 1e6) / events,
    };
  };
}
