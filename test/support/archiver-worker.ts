// The archiver as its own process, for crash tests: Redis Streams bus → Parquet → S3 (s3rver).
// Env: REDIS_URL, PREFIX, CONSUMER (fixed: a restart resumes its own pending entries),
// S3_ENDPOINT, S3_URL, STAGING, SLOW_MS (pause after each object put, so a kill lands between
// the files of one batch, i.e. mid-flush). Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
import { createRedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import { createS3ArchiveStore } from '../../src/adapters/s3/s3-archive-store.js';
import { startArchiver } from '../../src/archive/archiver.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import type { ArchiveStore } from '../../src/core/ports/archive-store.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`${k} is required`);
  return v;
};
const slowMs = Number(process.env.SLOW_MS ?? '0');
const client = await createRedisConnection(env('REDIS_URL'));
const bus = await createRedisStreamsEventBus({
  client,
  prefix: env('PREFIX'),
  consumerName: env('CONSUMER'),
});
const s3 = createS3ArchiveStore({ url: env('S3_URL'), endpoint: env('S3_ENDPOINT') });
const store: ArchiveStore = {
  location: s3.location,
  list: (p) => s3.list(p),
  get: (k, f) => s3.get(k, f),
  delete: (keys) => s3.delete(keys),
  close: () => s3.close(),
  async put(key, file) {
    await s3.put(key, file);
    process.stdout.write(`put ${key}\n`);
    if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
  },
};
const archive = await createParquetArchive({ store, stagingDir: env('STAGING') });
startArchiver({ bus, archive, lingerMs: 100, maxBatch: 1500 });
process.stdout.write('ready\n');
