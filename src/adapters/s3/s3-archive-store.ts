import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AllotError } from '../../core/errors.js';
import type { ArchiveObject, ArchiveStore } from '../../core/ports/archive-store.js';
import { checkArchiveKey, tempSibling } from '../file/folder-archive-store.js';

/** Used when the SDK's region chain (AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config) has none. */
export const DEFAULT_S3_REGION = 'us-east-1';
/** Attempts per request under the SDK's standard retry mode (exponential backoff, jitter). */
export const DEFAULT_S3_MAX_ATTEMPTS = 5;

/** A bucket name as S3 accepts it (3-63 of a-z 0-9 . -, starting and ending with a letter or digit). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Splits `s3://bucket/some/prefix` into the bucket and a key prefix that is either empty or
 * ends with `/` (`some/prefix/`), so a store never sees the objects of a sibling prefix
 * (`some/prefix-old/`). Throws ALLOT_ERR_VALIDATION, naming what is wrong, for anything else.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const fail = (why: string): never => {
    throw new AllotError('ALLOT_ERR_VALIDATION', `invalid S3 archive URL ${JSON.stringify(url)}: ${why}`, [
      { path: '/url', message: why },
    ]);
  };
  if (!url.startsWith('s3://')) fail('expected s3://bucket or s3://bucket/prefix');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket)) fail(`"${bucket}" is not a valid bucket name`);
  const path = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (path === '') return { bucket, prefix: '' };
  if (/[?#]/.test(path)) fail('the prefix cannot contain "?" or "#"');
  try {
    checkArchiveKey(path);
  } catch {
    fail(`"${path}" is not a valid prefix (empty, "." or ".." segments)`);
  }
  return { bucket, prefix: `${path}/` };
}

/**
 * The archive in an S3 bucket under a key prefix (`s3://bucket/prefix`); keys are relative to
 * the prefix. Works with any S3-compatible endpoint (MinIO, s3rver: path-style addressing).
 *
 * Credentials come from the AWS SDK's standard provider chain (env, shared files, SSO, web
 * identity, container/instance metadata); the region too, defaulting to `us-east-1`. A client
 * passed in (tests: explicit credentials) is used as is and left open by `close`.
 *
 * Failures: requests are retried by the SDK's standard retry mode, `maxAttempts` attempts in all
 * (default 5); what still fails is thrown. `put` sends a buffer (with its length) rather than a
 * stream because the SDK never retries a streaming body. PutObject is atomic: readers see the
 * old object or the new one, and a failed put leaves no (or the previous) object.
 */
export function createS3ArchiveStore(opts: {
  url: string;
  endpoint?: string;
  client?: S3Client;
  maxAttempts?: number;
}): ArchiveStore {
  const { bucket, prefix: root } = parseS3Url(opts.url);
  const client = opts.client ?? createS3Client(opts);
  const keyOf = (key: string) => {
    checkArchiveKey(key);
    return root + key;
  };

  return {
    location: `s3://${bucket}/${root}`,

    async put(key, localFile) {
      const Key = keyOf(key);
      const body = await readFile(localFile);
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key, Body: body, ContentLength: body.length }),
      );
    },

    async list(prefix) {
      const found: ArchiveObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: root + prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          found.push({ key: o.Key.slice(root.length), size: o.Size ?? 0 });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      // S3 orders by UTF-8 bytes; the port promises JavaScript string order.
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async get(key, localFile) {
      const Key = keyOf(key);
      await mkdir(dirname(localFile), { recursive: true });
      const tmp = tempSibling(localFile);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        if (!(out.Body instanceof Readable)) throw new Error(`GetObject ${Key}: no readable body`);
        await pipeline(out.Body, createWriteStream(tmp));
        await rename(tmp, localFile);
      } catch (err) {
        await rm(tmp, { force: true });
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) {
          throw new AllotError(
            'ALLOT_ERR_NOT_FOUND',
            `no archive object ${JSON.stringify(key)} in s3://${bucket}`,
          );
        }
        throw err;
      }
    },

    async delete(keys) {
      // DeleteObjects takes at most 1,000 keys; a key that is not there counts as deleted.
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000).map((k) => ({ Key: keyOf(k) }));
        const out = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk, Quiet: true } }),
        );
        if ((out.Errors ?? []).length > 0) {
          const e = out.Errors![0]!;
          throw new Error(`DeleteObjects in s3://${bucket}: ${e.Key}: ${e.Code} ${e.Message ?? ''}`);
        }
      }
    },

    async close() {
      if (opts.client === undefined) client.destroy();
    },
  };
}

/**
 * A client on the standard credential chain. Checksums only when an operation requires them:
 * the SDK's default (CRC32 trailers on every upload) is not understood by some S3-compatible
 * servers (s3rver stores the chunk framing as the object's bytes).
 */
function createS3Client(opts: { endpoint?: string; maxAttempts?: number }): S3Client {
  return new S3Client({
    region: regionFromChain,
    maxAttempts: opts.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint, forcePathStyle: true }),
  });
}

let chainRegion: Promise<string> | undefined;
/** The region the SDK's chain gives a client configured with none, else `us-east-1` (resolved once). */
function regionFromChain(): Promise<string> {
  chainRegion ??= (async () => {
    const probe = new S3Client({});
    try {
      return await probe.config.region();
    } catch {
      return DEFAULT_S3_REGION; // "Region is missing"
    } finally {
      probe.destroy();
    }
  })();
  return chainRegion;
}
