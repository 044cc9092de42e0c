// A real S3 server for tests: Versity Gateway (`.tools/bin/versitygw`, built by scripts/ci-deps.sh) with its
// posix backend on a temporary directory, on a free loopback port. startS3() starts one; sharedS3() starts one
// per test process on first use (or uses BERTH_TEST_S3_ENDPOINT when a script started one for a whole run).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export const VERSITYGW = resolve(import.meta.dirname, '..', '..', '.tools', 'bin', 'versitygw');
export const S3_ACCESS_KEY = 'berthtestaccess';
export const S3_SECRET_KEY = 'berth-test-secret-key-0123456789';

export interface S3Server {
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  region: string;
  dir: string | null;
  /** Creates a fresh, uniquely named bucket. */
  createBucket(prefix?: string): Promise<string>;
  /** Stops the server (kill); the data stays until `remove`. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and directory. */
  start(): Promise<void>;
  remove(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function waitListening(port: number, child: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`versitygw exited with ${child.exitCode}:\n${out()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.body?.cancel();
      return; // any HTTP answer (403 for an unsigned request) means it is up
    } catch {
      if (Date.now() > deadline) throw new Error(`versitygw did not listen on ${port} in 20 s:\n${out()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function client(endpoint: string): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
}

async function createBucketAt(endpoint: string, prefix = 'berth-test'): Promise<string> {
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  const c = client(endpoint);
  try {
    await c.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    c.destroy();
  }
  return name;
}

export async function startS3(opts: { port?: number } = {}): Promise<S3Server> {
  if (!existsSync(VERSITYGW)) throw new Error(`${VERSITYGW} is missing: run bash scripts/ci-deps.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3-'));
  const port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  let out = '';
  const kill = () => child?.kill('SIGKILL');
  process.on('exit', kill);
  const server: S3Server = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    accessKey: S3_ACCESS_KEY,
    secretKey: S3_SECRET_KEY,
    region: 'us-east-1',
    dir,
    createBucket: (prefix) => createBucketAt(server.endpoint, prefix),
    async start() {
      out = '';
      const c = spawn(VERSITYGW, ['--access', S3_ACCESS_KEY, '--secret', S3_SECRET_KEY, '--port', `127.0.0.1:${port}`, '--quiet', 'posix', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      c.stdout!.on('data', (d) => (out += d));
      c.stderr!.on('data', (d) => (out += d));
      c.unref();
      (c.stdout as unknown as { unref?: () => void }).unref?.();
      (c.stderr as unknown as { unref?: () => void }).unref?.();
      child = c;
      await waitListening(port, c, () => out);
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
    },
    async remove() {
      await server.stop();
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

let shared: Promise<S3Server> | null = null;

/** One S3 server per test process (stopped when the process exits), or the one BERTH_TEST_S3_ENDPOINT names. */
export function sharedS3(): Promise<S3Server> {
  const ext = process.env.BERTH_TEST_S3_ENDPOINT;
  if (ext) {
    const endpoint = ext.replace(/\/+$/, '');
    return Promise.resolve({
      endpoint,
      port: Number(new URL(endpoint).port),
      accessKey: S3_ACCESS_KEY,
      secretKey: S3_SECRET_KEY,
      region: 'us-east-1',
      dir: null,
      createBucket: (prefix) => createBucketAt(endpoint, prefix),
      start: async () => {},
      stop: async () => {},
      remove: async () => {},
    });
  }
  shared ??= startS3().then((s) => {
    process.once('exit', () => rmSync(s.dir!, { recursive: true, force: true }));
    return s;
  });
  return shared;
}

/** BERTH_* environment that points a Berth process at `bucket` on `s3`. */
export function s3Env(s3: S3Server, bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    BERTH_STORAGE_TYPE: 's3',
    BERTH_STORAGE_S3_BUCKET: bucket,
    BERTH_STORAGE_S3_ENDPOINT: s3.endpoint,
    BERTH_STORAGE_S3_REGION: s3.region,
    BERTH_STORAGE_S3_ACCESS_KEY: s3.accessKey,
    BERTH_STORAGE_S3_SECRET_KEY: s3.secretKey,
    BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    ...extra,
  };
}
