// Small /v2 helpers for the durability tests: plain fetch with Basic auth (accepted directly on /v2).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';

export const MiB = 1024 * 1024;

export const sha256 = (b: Uint8Array): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export const authOf = (b: Berth): string => 'Basic ' + Buffer.from(`${b.adminUser}:${b.adminPassword}`).toString('base64');

export interface Req {
  body?: RequestInit['body'];
  headers?: Record<string, string>;
}

/** One /v2 request against a process; `path` starts with /v2/. */
export function req(b: Berth, method: string, path: string, o: Req = {}): Promise<Response> {
  const init: RequestInit & { duplex?: 'half' } = { method, headers: { authorization: authOf(b), ...o.headers }, body: o.body ?? null };
  if (o.body instanceof ReadableStream) init.duplex = 'half';
  return fetch(b.url + path, init);
}

/** Asserts a status; on a mismatch the message carries the response body. Leaves the body unread on success. */
export async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status !== status) assert.fail(`${what}: expected ${status}, got ${res.status} ${await res.text()}`);
}

/** The first error code of an error response body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Monolithic push (POST ?digest=). */
export async function pushBlob(b: Berth, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const res = await req(b, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  await expectStatus(res, 201, `push blob to ${repo}`);
  await res.body?.cancel();
  assert.equal(res.headers.get('docker-content-digest'), digest);
  return digest;
}

export async function getBlob(b: Berth, repo: string, digest: string): Promise<Buffer> {
  const res = await req(b, 'GET', `/v2/${repo}/blobs/${digest}`);
  assert.equal(res.status, 200, `GET blob ${digest} from ${repo}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Streams a blob and returns its digest and size without buffering it. */
export async function hashBlob(b: Berth, repo: string, digest: string): Promise<{ digest: string; size: number }> {
  const res = await req(b, 'GET', `/v2/${repo}/blobs/${digest}`);
  assert.equal(res.status, 200, `GET blob ${digest} from ${repo}: ${res.status}`);
  const h = createHash('sha256');
  let size = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    h.update(c);
    size += c.length;
  }
  return { digest: 'sha256:' + h.digest('hex'), size };
}

export async function headStatus(b: Berth, path: string): Promise<number> {
  const res = await req(b, 'HEAD', path);
  await res.body?.cancel();
  return res.status;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** An OCI image manifest over the given config and layers (all already pushed). */
export function imageManifest(config: { digest: string; size: number }, layers: { digest: string; size: number }[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
      ...(annotations ? { annotations } : {}),
    }),
  );
}

export async function putManifest(b: Berth, repo: string, ref: string, body: Buffer): Promise<Response> {
  return req(b, 'PUT', `/v2/${repo}/manifests/${ref}`, { body, headers: { 'content-type': OCI_MANIFEST } });
}

export async function pushManifest(b: Berth, repo: string, ref: string, body: Buffer): Promise<string> {
  const res = await putManifest(b, repo, ref, body);
  await expectStatus(res, 201, `PUT manifest ${repo}:${ref}`);
  await res.body?.cancel();
  const digest = sha256(body);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  return digest;
}

/** GET a manifest: status, body and served digest. */
export async function getManifest(b: Berth, repo: string, ref: string): Promise<{ status: number; body: Buffer; digest: string | null }> {
  const res = await req(b, 'GET', `/v2/${repo}/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), digest: res.headers.get('docker-content-digest') };
}

export interface Image {
  repo: string;
  tag: string;
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  digest: string;
}

/** Pushes a small image (config + one layer + manifest) and returns everything needed to verify it later. */
export async function pushImage(b: Berth, repo: string, tag: string, layer: Buffer, note = tag): Promise<Image> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', note, rootfs: { type: 'layers', diff_ids: [] } }));
  const cd = await pushBlob(b, repo, config);
  const ld = await pushBlob(b, repo, layer);
  const manifest = imageManifest({ digest: cd, size: config.length }, [{ digest: ld, size: layer.length }]);
  const digest = await pushManifest(b, repo, tag, manifest);
  return { repo, tag, config, layer, manifest, digest };
}

/** Asserts an image reads back byte for byte, by tag and by digest. */
export async function assertImageIntact(b: Berth, img: Image): Promise<void> {
  for (const ref of [img.tag, img.digest]) {
    const m = await getManifest(b, img.repo, ref);
    assert.equal(m.status, 200, `GET manifest ${img.repo}:${ref}`);
    assert.ok(m.body.equals(img.manifest), `manifest ${img.repo}:${ref} differs`);
    assert.equal(m.digest, img.digest);
  }
  assert.ok((await getBlob(b, img.repo, sha256(img.config))).equals(img.config), 'config blob differs');
  assert.ok((await getBlob(b, img.repo, sha256(img.layer))).equals(img.layer), 'layer blob differs');
}

/** Where the filesystem store keeps a committed blob. */
export function blobFile(b: Berth, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(b.dataDir, 'storage', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}
export const blobFileExists = (b: Berth, digest: string): boolean => existsSync(blobFile(b, digest));
export const uploadsDir = (b: Berth): string => join(b.dataDir, 'storage', 'uploads');

/** Opens an upload session; returns its id and (relative) Location. */
export async function openSession(b: Berth, repo: string): Promise<{ id: string; location: string }> {
  const res = await req(b, 'POST', `/v2/${repo}/blobs/uploads/`);
  await expectStatus(res, 202, `open session in ${repo}`);
  await res.body?.cancel();
  const location = res.headers.get('location')!;
  const id = res.headers.get('docker-upload-uuid')!;
  assert.ok(location.startsWith('/v2/'), `relative Location expected, got ${location}`);
  assert.ok(location.endsWith(id));
  return { id, location };
}

/** PATCH one chunk with Content-Range; returns the acknowledged Range header. */
export async function patchChunk(b: Berth, location: string, offset: number, chunk: Uint8Array): Promise<string> {
  const res = await req(b, 'PATCH', location, {
    body: chunk,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
  });
  await expectStatus(res, 202, `PATCH ${location} @${offset}`);
  await res.body?.cancel();
  return res.headers.get('range')!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A request body that trickles `buf` in 256 KiB pieces, so two of them overlap in time. */
export function trickle(buf: Buffer, pauseMs = 20): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (i >= buf.length) return c.close();
        c.enqueue(buf.subarray(i, i + 256 * 1024));
        i += 256 * 1024;
        await sleep(pauseMs);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Two PATCHes of different bytes for the same range of one session, at once, through `p` and `q` (the same
 * process or two of one deployment); then the PUT for whichever was acknowledged. Exactly one chunk may be
 * acknowledged, and a committed blob must hash to its digest.
 */
export async function racingPatches(p: Berth, q: Berth, repo: string): Promise<void> {
  const head = Buffer.alloc(MiB + 3, 7);
  const s = await openSession(p, repo);
  await patchChunk(p, s.location, 0, head);
  const x = Buffer.alloc(4 * MiB, 1);
  const y = Buffer.alloc(4 * MiB, 2);
  const range = { 'content-range': `${head.length}-${head.length + x.length - 1}`, 'content-type': 'application/octet-stream' };
  const [rx, ry] = await Promise.all([
    req(p, 'PATCH', s.location, { body: trickle(x), headers: range }),
    req(q, 'PATCH', s.location, { body: trickle(y), headers: range }),
  ]);
  await rx.body?.cancel();
  await ry.body?.cancel();
  const statuses = [rx.status, ry.status];
  assert.equal(statuses.filter((st) => st === 202).length, 1, `exactly one chunk is acknowledged, got ${statuses}`);
  for (const st of statuses) assert.ok([202, 409, 416].includes(st), `unexpected ${st}`);
  const [via, chunk] = rx.status === 202 ? [p, x] : [q, y];
  const want = sha256(Buffer.concat([head, chunk]));
  const put = await req(via, 'PUT', `${s.location}?digest=${want}`);
  const text = await put.text();
  // Refusing the digest would be safe too; committing it over other bytes is not.
  if (put.status === 201) assert.deepEqual(await hashBlob(p, repo, want), { digest: want, size: head.length + chunk.length }, 'the committed blob does not match its digest');
  else assert.equal(put.status, 400, text);
}

/** Two Berth processes of one deployment (one data dir, one database); their output is printed when fn fails. */
export async function twoProcesses(fn: (a: Berth, b: Berth) => Promise<void>): Promise<void> {
  const a = await startBerth();
  let b: Berth | null = null;
  try {
    b = await startBerth({ dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined });
    assert.notEqual(a.port, b.port);
    await fn(a, b);
  } catch (e) {
    process.stderr.write(`--- A ---\n${a.output()}\n--- B ---\n${b?.output() ?? ''}\n`);
    throw e;
  } finally {
    await b?.stop({ keepData: true });
    await a.stop();
  }
}
