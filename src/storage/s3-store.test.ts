import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { S3BlobStore } from './s3-store.ts';
import { runBlobStoreConformance } from './blob-store.conformance.ts';
import { sharedS3 } from '../../test/helpers/s3.ts';
import type { S3StorageConfig } from '../config/config.ts';

async function config(over: Partial<S3StorageConfig> = {}): Promise<S3StorageConfig> {
  const s3 = await sharedS3();
  return {
    type: 's3',
    bucket: await s3.createBucket('berth-store'),
    region: s3.region,
    endpoint: s3.endpoint,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    forcePathStyle: true,
    rootDirectory: '',
    redirect: false,
    multipartChunkSize: 5 * 1024 * 1024,
    ...over,
  };
}

runBlobStoreConformance('S3BlobStore', async () => {
  const store = new S3BlobStore(await config());
  return { store, cleanup: async () => store.destroy() };
});

runBlobStoreConformance('S3BlobStore under a root_directory', async () => {
  const store = new S3BlobStore(await config({ rootDirectory: 'registry/berth' }));
  return { store, cleanup: async () => store.destroy() };
});

// ---- S3-specific behaviour, through the real store and real Berth processes --------------------------------

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startBerth, type Berth } from '../../test/helpers/berth.ts';
import { s3Env, startS3, type S3Server } from '../../test/helpers/s3.ts';
import { RegistryClient } from '../../test/helpers/registry-client.ts';
import { TOOLS_BIN } from '../../test/helpers/clients.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
async function* once(b: Buffer): AsyncIterable<Buffer> {
  for (let i = 0; i < b.length; i += 256 * 1024) yield b.subarray(i, i + 256 * 1024);
}
async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.from(c as Buffer));
  return Buffer.concat(out);
}

/** Names of the S3 operations a store sends, recorded through the SDK's middleware stack. */
function recordOps(store: S3BlobStore): string[] {
  const ops: string[] = [];
  const client = (store as unknown as { s3: { middlewareStack: { add: (mw: unknown, o: unknown) => void } } }).s3;
  client.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, ctx: { commandName: string }) => async (args: unknown) => {
      ops.push(ctx.commandName.replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'testRecordOps' },
  );
  return ops;
}

test('S3: a blob of several >= 5 MiB parts plus small ones is assembled server-side (UploadPartCopy) byte-identical', async () => {
  const store = new S3BlobStore(await config());
  try {
    const sizes = [6 * MiB + 123, 5 * MiB, 700 * 1024, 300 * 1024, 4 * MiB + 300 * 1024, 5 * MiB + 1, 1000];
    const datas = sizes.map((n) => randomBytes(n));
    const whole = Buffer.concat(datas);
    const id = randomUUID();
    await store.createUpload(id);
    const parts: string[] = [];
    for (const d of datas) parts.push((await store.writeUploadPart(id, once(d))).part);
    const ops = recordOps(store);
    const digest = sha256(whole);
    await store.commitUpload(id, parts, digest);
    // The two leading big parts are copied; the small run (700 KiB + 300 KiB + 4.3 MiB reaches 5 MiB) is streamed,
    // then the 5 MiB+1 part is copied and the last 1000 bytes streamed.
    assert.equal(ops.filter((o) => o === 'UploadPartCopy').length, 3, ops.join(' '));
    assert.equal(ops.filter((o) => o === 'UploadPart').length, 2, ops.join(' '));
    assert.equal(ops.filter((o) => o === 'GetObject').length, 4, 'only the small parts are read back through Berth');
    assert.ok(ops.includes('CompleteMultipartUpload'));
    assert.deepEqual(await store.stat(digest), { size: whole.length });
    const back = await collect(store.read(digest));
    assert.equal(sha256(back), digest);
    assert.ok(back.equals(whole));
    // A range across a part boundary.
    const at = 6 * MiB + 100;
    assert.ok((await collect(store.read(digest, { start: at, end: at + 99 }))).equals(whole.subarray(at, at + 100)));
    // One part only: a single CopyObject, no bytes through Berth.
    const one = randomBytes(7 * MiB);
    const id2 = randomUUID();
    await store.createUpload(id2);
    const p = await store.writeUploadPart(id2, once(one));
    ops.length = 0;
    await store.commitUpload(id2, [p.part], sha256(one));
    assert.ok(ops.includes('CopyObject') && !ops.includes('GetObject'), ops.join(' '));
    assert.ok((await collect(store.read(sha256(one)))).equals(one));
  } finally {
    store.destroy();
  }
});

test('S3: listBlobs pages through more than one ListObjectsV2 page', async () => {
  const store = new S3BlobStore(await config());
  try {
    const want = new Set<string>();
    const items = Array.from({ length: 1010 }, (_, i) => Buffer.from(`blob ${i}`));
    for (let i = 0; i < items.length; i += 50)
      await Promise.all(
        items.slice(i, i + 50).map(async (b) => {
          const id = randomUUID();
          await store.createUpload(id);
          const w = await store.writeUploadPart(id, once(b));
          await store.commitUpload(id, [w.part], sha256(b));
          want.add(sha256(b));
        }),
      );
    const ops = recordOps(store);
    const seen = new Set<string>();
    for await (const f of store.listBlobs()) seen.add(f.digest);
    assert.deepEqual([...seen].sort(), [...want].sort());
    assert.ok(ops.filter((o) => o === 'ListObjectsV2').length >= 2, 'paginated');
  } finally {
    store.destroy();
  }
});

const run = promisify(execFile);

function registry(b: Berth): RegistryClient {
  return new RegistryClient({ baseUrl: b.url, username: b.adminUser, password: b.adminPassword });
}

test('S3: an upload begun by one Berth process is finished by another (state only in S3 and the database)', async () => {
  const s3 = await (await import('../../test/helpers/s3.ts')).sharedS3();
  const bucket = await s3.createBucket();
  let a: Berth | null = await startBerth({ storage: 's3', s3Bucket: bucket });
  let b: Berth | null = null;
  try {
    const data = randomBytes(11 * MiB + 5);
    const ca = registry(a);
    const loc = await ca.openSession('library/resume');
    const first = data.subarray(0, 6 * MiB);
    const r1 = await ca.request('PATCH', loc.toString(), { body: first, headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${first.length - 1}` } });
    assert.equal(r1.status, 202, String(r1));
    const path = new URL(r1.header('location')!, a.url).pathname + new URL(r1.header('location')!, a.url).search;
    await a.kill9();
    // A second process on the same database and bucket (same data dir and port: SQLite or PostgreSQL alike).
    b = await a.restart();
    a = null;
    const cb = registry(b);
    const status = await cb.request('GET', path);
    assert.equal(status.status, 204);
    assert.equal(status.header('range'), `0-${first.length - 1}`);
    const rest = data.subarray(first.length);
    const r2 = await cb.request('PATCH', path, { body: rest, headers: { 'content-type': 'application/octet-stream', 'content-range': `${first.length}-${data.length - 1}` } });
    assert.equal(r2.status, 202, String(r2));
    const done = await cb.request('PUT', RegistryClient.withQuery(new URL(r2.header('location')!, b.url), { digest: sha256(data) }));
    assert.equal(done.status, 201, String(done));
    const got = await cb.getBlob('library/resume', sha256(data));
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(data), 'byte-identical');
  } finally {
    await a?.stop();
    await b?.stop();
  }
});

test('S3 redirect: blob GETs answer 307 to a presigned URL, and crane pulls through it byte for byte', async () => {
  const berth = await startBerth({ storage: 's3', env: { BERTH_STORAGE_S3_REDIRECT: 'true' } });
  const work = mkdtempSync(join(tmpdir(), 'berth-s3-redirect-'));
  try {
    const c = registry(berth);
    const img = await c.pushImage('library/redirect', 'v1', { layers: 2, layerSize: 300 * 1024 });
    const layer = img.layers[0];
    const res = await c.getBlob('library/redirect', layer.digest);
    assert.equal(res.status, 307, String(res));
    const loc = new URL(res.header('location')!);
    const s3 = await (await import('../../test/helpers/s3.ts')).sharedS3();
    assert.equal(loc.origin, s3.endpoint, 'sent to the S3 server');
    assert.ok(loc.searchParams.get('X-Amz-Signature'), 'presigned');
    assert.ok(!loc.toString().includes(s3.secretKey), 'no secret in the URL');
    // The URL alone (no Berth credentials) fetches the bytes, ranges included.
    const direct = await fetch(loc);
    assert.equal(direct.status, 200);
    assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), layer.digest);
    const ranged = await fetch(loc, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 10);
    // HEAD is still answered by Berth; a blob the repository cannot see is still 404, not a redirect.
    assert.equal((await c.headBlob('library/redirect', layer.digest)).status, 200);
    assert.equal((await c.getBlob('library/other', layer.digest)).status, 404);
    // A real client follows the redirect.
    const cfg = join(work, 'docker');
    const auth = Buffer.from(`${berth.adminUser}:${berth.adminPassword}`).toString('base64');
    rmSync(cfg, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { [berth.host]: { auth } } }));
    const env = { ...process.env, DOCKER_CONFIG: cfg };
    const out = join(work, 'layout');
    await run(join(TOOLS_BIN, 'crane'), ['pull', '--insecure', '--format', 'oci', `${berth.host}/library/redirect:v1`, out], { env });
    for (const l of img.layers) {
      const bytes = readFileSync(join(out, 'blobs', 'sha256', l.digest.slice(7)));
      assert.equal(sha256(bytes), l.digest);
    }
    const blob = await run(join(TOOLS_BIN, 'crane'), ['blob', '--insecure', `${berth.host}/library/redirect@${layer.digest}`], { env, encoding: 'buffer', maxBuffer: 8 * MiB });
    assert.equal(sha256(blob.stdout as unknown as Buffer), layer.digest);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await berth.stop();
  }
});

test('S3 server down: /v2 answers a clean 5xx OCI error, /health reports the registry unhealthy, both recover', async () => {
  const s3: S3Server = await startS3();
  const bucket = await s3.createBucket();
  const berth = await startBerth({ storage: 'filesystem', env: s3Env(s3, bucket) });
  try {
    const c = registry(berth);
    const img = await c.pushImage('library/down', 'v1', { layers: 1, layerSize: 4096 });
    const health = async () => (await (await fetch(`${berth.url}/api/v2.0/health`)).json()) as { status: string; components: { name: string; status: string; error?: string }[] };
    assert.equal((await health()).status, 'healthy');
    await s3.stop();
    const g = await c.getBlob('library/down', img.layers[0].digest);
    assert.ok(g.status >= 500 && g.status < 600, String(g));
    assert.deepEqual(g.errorCodes(), ['UNKNOWN']);
    const push = await c.startUpload('library/down');
    assert.ok(push.status >= 500 && push.status < 600, String(push));
    assert.deepEqual(push.errorCodes(), ['UNKNOWN']);
    const h = await health();
    assert.equal(h.status, 'unhealthy');
    const reg = h.components.find((x) => x.name === 'registry')!;
    assert.equal(reg.status, 'unhealthy');
    assert.match(reg.error ?? '', /cannot reach the server/);
    assert.ok(!JSON.stringify(h).includes(s3.secretKey));
    await s3.start();
    assert.equal((await health()).status, 'healthy');
    const again = await c.getBlob('library/down', img.layers[0].digest);
    assert.equal(again.status, 200);
    assert.equal(sha256(again.body), img.layers[0].digest);
    assert.ok(!berth.output().includes(s3.secretKey), 'the secret is never logged');
  } finally {
    await berth.stop();
    await s3.remove();
  }
});

test('S3 bad credentials or bucket: Berth refuses to start with an error naming the keys, never the secret', async () => {
  const s3 = await (await import('../../test/helpers/s3.ts')).sharedS3();
  const bucket = await s3.createBucket();
  const secret = 'wrong-secret-value-1234567890';
  await assert.rejects(startBerth({ storage: 'filesystem', env: s3Env(s3, bucket, { BERTH_STORAGE_S3_SECRET_KEY: secret }) }), (e: Error) => {
    assert.match(e.message, /access denied \(check storage\.s3\.access_key and storage\.s3\.secret_key/);
    assert.ok(!e.message.includes(secret), 'secret not printed');
    return true;
  });
  await assert.rejects(startBerth({ storage: 'filesystem', env: s3Env(s3, 'no-such-bucket-here') }), /no such bucket \(storage\.s3\.bucket\)/);
  await assert.rejects(startBerth({ storage: 'filesystem', env: s3Env(s3, bucket, { BERTH_STORAGE_S3_ACCESS_KEY: '' }) }), /storage\.s3\.access_key: required when storage\.s3\.secret_key is set/);
});
