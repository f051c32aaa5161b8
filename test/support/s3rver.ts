import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver's fixed credentials (it checks signatures against them). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/**
 * An S3 client for a test S3 server: s3rver's credentials, path-style, and checksums only when
 * required (otherwise s3rver stores the chunk framing of uploads as the object's bytes).
 * `maxAttempts: 1` by default, so a test sees a failure at once instead of after retries.
 */
export function testS3Client(endpoint: string, opts: { maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: opts.maxAttempts ?? 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Runs in the child: starts s3rver with one bucket, prints its port once it listens. */
const CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
new S3rver({ address: '127.0.0.1', port: Number(process.env.S3RVER_PORT || 0), silent: true, directory: process.env.S3RVER_DIR,
             configureBuckets: [{ name: process.env.S3RVER_BUCKET }] })
  .run()
  .then((a) => process.stdout.write('listening ' + a.port + '\\n'),
        (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/**
 * Starts s3rver in a child process (under `--openssl-legacy-provider`, without which its paged
 * ListObjectsV2 answers 500 on Node 20) on a port the OS picks, over a fresh temporary folder,
 * with one bucket; resolves once the bucket answers a HeadBucket. `stop` kills it and deletes
 * the folder.
 */
export async function startS3rver(
  opts: { bucket?: string; port?: number; dir?: string } = {},
): Promise<S3rverHandle> {
  const bucket = opts.bucket ?? 'allot-test';
  // A folder passed in outlives the server (an outage test restarts over the same data).
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'allot-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    env: {
      ...process.env,
      S3RVER_MODULE: createRequire(import.meta.url).resolve('s3rver'),
      S3RVER_DIR: dir,
      S3RVER_BUCKET: bucket,
      S3RVER_PORT: String(opts.port ?? 0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await listeningPort(child);
    const endpoint = `http://127.0.0.1:${port}`;
    const client = testS3Client(endpoint);
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    return { endpoint, bucket, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The port the child prints; rejects with its output if it exits first or within 20 s does not. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b;
      const m = /listening (\d+)/.exec(out);
      if (m) done(() => resolve(Number(m[1])));
    };
    const onExit = () => done(() => reject(new Error(`s3rver exited before listening:\n${out}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`s3rver did not start:\n${out}`))), 20_000);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its pipes so the child never blocks on a full buffer.
      child.stdout?.resume();
      child.stderr?.resume();
      settle();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
