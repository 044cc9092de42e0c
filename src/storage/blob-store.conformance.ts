// The BlobStore driver conformance suite: every storage driver runs these same tests. `make` returns a fresh,
// empty store and its cleanup; drivers that keep data on a local filesystem may also name a directory outside
// the store (`outside`) where the suite plants canary files that no call may ever touch.
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
  /** A directory outside the store's root (filesystem-backed drivers), for canary files. */
  outside?: string;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function* chunks(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** A stream-returning call on bad input must fail: by throwing, or with a stream that errors. */
async function assertReadFails(f: () => Readable): Promise<void> {
  let r: Readable;
  try {
    r = f();
  } catch {
    return;
  }
  await assert.rejects(collect(r));
}

interface Staged {
  id: string;
  parts: string[];
}

async function upload(store: BlobStore, data: Buffer): Promise<Staged> {
  const id = randomUUID();
  await store.createUpload(id);
  const w = await store.writeUploadPart(id, chunks(data));
  assert.equal(w.size, data.length);
  return { id, parts: [w.part] };
}

async function put(store: BlobStore, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const u = await upload(store, data);
  await store.commitUpload(u.id, u.parts, digest);
  return digest;
}

async function listIds(store: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const u of store.listUploads()) ids.push(u.id);
  return ids.sort();
}

export function runBlobStoreConformance(name: string, make: () => Promise<BlobStoreFixture>): void {
  const withStore = (fn: (f: BlobStoreFixture) => Promise<void>) => async () => {
    const f = await make();
    try {
      await fn(f);
    } finally {
      await f.cleanup();
    }
  };

  suite(`BlobStore conformance: ${name}`, () => {
    test('check() succeeds on a fresh store', withStore(async ({ store }) => {
      await store.check();
    }));

    test('writeUploadPart stores each chunk as its own part; readUploadParts concatenates them in the order given', withStore(async ({ store }) => {
      const id = randomUUID();
      await store.createUpload(id);
      const a = await store.writeUploadPart(id, chunks('hello', ' '));
      const b = await store.writeUploadPart(id, chunks('world'));
      assert.equal(a.size, 6);
      assert.equal(b.size, 5);
      assert.notEqual(a.part, b.part);
      assert.equal((await collect(store.readUploadParts(id, [a.part, b.part]))).toString(), 'hello world');
      assert.equal((await collect(store.readUploadParts(id, [b.part, a.part]))).toString(), 'worldhello ');
      assert.equal((await collect(store.readUploadParts(id, [a.part]))).toString(), 'hello ');
      assert.equal((await collect(store.readUploadParts(id, []))).length, 0);
      const empty = await store.writeUploadPart(id, chunks());
      assert.equal(empty.size, 0);
    }));

    test('a failed part write leaves no part behind and never alters other parts', withStore(async ({ store }) => {
      const id = randomUUID();
      await store.createUpload(id);
      const good = await store.writeUploadPart(id, chunks('abcdef'));
      async function* failing(): AsyncIterable<Buffer> {
        yield Buffer.from('GARBAGE');
        throw new Error('client disconnected');
      }
      await assert.rejects(store.writeUploadPart(id, failing()), /client disconnected/);
      assert.equal((await collect(store.readUploadParts(id, [good.part]))).toString(), 'abcdef');
      const next = await store.writeUploadPart(id, chunks('ghi'));
      assert.equal((await collect(store.readUploadParts(id, [good.part, next.part]))).toString(), 'abcdefghi');
      await store.removeUploadPart(id, next.part);
      await assertReadFails(() => store.readUploadParts(id, [good.part, next.part]));
      assert.equal((await collect(store.readUploadParts(id, [good.part]))).toString(), 'abcdef');
    }));

    test('concurrent part writes to one upload never mix their bytes', withStore(async ({ store }) => {
      const id = randomUUID();
      await store.createUpload(id);
      const datas = [randomBytes(300_000), randomBytes(300_000), randomBytes(300_000)];
      async function* slow(b: Buffer): AsyncIterable<Buffer> {
        for (let i = 0; i < b.length; i += 10_000) {
          yield b.subarray(i, i + 10_000);
          await sleep(0);
        }
      }
      const written = await Promise.all(datas.map((d) => store.writeUploadPart(id, slow(d))));
      for (let i = 0; i < datas.length; i++) assert.ok((await collect(store.readUploadParts(id, [written[i].part]))).equals(datas[i]));
    }));

    test('writing to an unknown upload fails', withStore(async ({ store }) => {
      await assert.rejects(store.writeUploadPart(randomUUID(), chunks('x')));
      assert.deepEqual(await listIds(store), []);
    }));

    test('a large upload in many parts is committed byte-exact', withStore(async ({ store }) => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const id = randomUUID();
      await store.createUpload(id);
      const parts: string[] = [];
      let off = 0;
      for (const size of [1, 65536, 1024 * 1024 + 3, 2 * 1024 * 1024]) {
        const part = data.subarray(off, Math.min(data.length, off + size));
        // Each PATCH arrives as many small chunks.
        async function* split(): AsyncIterable<Buffer> {
          for (let i = 0; i < part.length; i += 16384) yield part.subarray(i, i + 16384);
        }
        const w = await store.writeUploadPart(id, split());
        parts.push(w.part);
        off += w.size;
      }
      assert.equal(off, data.length);
      assert.ok((await collect(store.readUploadParts(id, parts))).equals(data));
      const digest = sha256(data);
      await store.commitUpload(id, parts, digest);
      assert.deepEqual(await store.stat(digest), { size: data.length });
      assert.equal(sha256(await collect(store.read(digest))), digest);
      assert.deepEqual(await listIds(store), []);
    }));

    test('commitUpload makes the given parts readable by digest and removes the upload, unlisted parts ignored', withStore(async ({ store }) => {
      const data = Buffer.from('blob content\n');
      const digest = sha256(data);
      assert.equal(await store.stat(digest), null);
      const u = await upload(store, data);
      // A part the session never acknowledged (a losing concurrent write) is not part of the blob.
      await store.writeUploadPart(u.id, chunks('stray bytes'));
      await store.commitUpload(u.id, u.parts, digest);
      assert.deepEqual(await store.stat(digest), { size: data.length });
      assert.ok((await collect(store.read(digest))).equals(data));
      assert.ok(!(await listIds(store)).includes(u.id));
      // An empty blob (no parts at all) is a blob too.
      const e = randomUUID();
      await store.createUpload(e);
      const emptyDigest = sha256(Buffer.alloc(0));
      await store.commitUpload(e, [], emptyDigest);
      assert.deepEqual(await store.stat(emptyDigest), { size: 0 });
      assert.equal((await collect(store.read(emptyDigest))).length, 0);
      // sha512 digests are addressable as well.
      const d512 = `sha512:${createHash('sha512').update(data).digest('hex')}`;
      const v = await upload(store, data);
      await store.commitUpload(v.id, v.parts, d512);
      assert.deepEqual(await store.stat(d512), { size: data.length });
      assert.ok((await collect(store.read(d512))).equals(data));
    }));

    test('committing a digest that already exists keeps one blob and drops the second upload', withStore(async ({ store }) => {
      const data = randomBytes(1000);
      const digest = await put(store, data);
      const second = await upload(store, data);
      await store.commitUpload(second.id, second.parts, digest);
      assert.deepEqual(await store.stat(digest), { size: 1000 });
      assert.ok((await collect(store.read(digest))).equals(data));
      // Concurrent commits of the same content both succeed.
      const more = randomBytes(5000);
      const d = sha256(more);
      const ups = await Promise.all([upload(store, more), upload(store, more), upload(store, more)]);
      await Promise.all(ups.map((u) => store.commitUpload(u.id, u.parts, d)));
      assert.ok((await collect(store.read(d))).equals(more));
      assert.deepEqual(await listIds(store), []);
    }));

    test('read with byte ranges (inclusive end)', withStore(async ({ store }) => {
      const data = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
      const digest = await put(store, data);
      const cases: [number, number][] = [
        [0, 0],
        [0, 199],
        [10, 19],
        [199, 199],
        [150, 199],
      ];
      for (const [start, end] of cases) {
        const got = await collect(store.read(digest, { start, end }));
        assert.ok(got.equals(data.subarray(start, end + 1)), `range ${start}-${end}`);
      }
    }));

    test('reading or stat-ing a blob that does not exist', withStore(async ({ store }) => {
      const missing = sha256(Buffer.from('never stored'));
      assert.equal(await store.stat(missing), null);
      await assertReadFails(() => store.read(missing));
      await assertReadFails(() => store.read(missing, { start: 0, end: 1 }));
    }));

    test('remove deletes a blob; removing again or removing a missing blob is fine', withStore(async ({ store }) => {
      const keep = await put(store, Buffer.from('keep'));
      const gone = await put(store, Buffer.from('gone'));
      await store.remove(gone);
      assert.equal(await store.stat(gone), null);
      await assertReadFails(() => store.read(gone));
      await store.remove(gone);
      await store.remove(sha256(Buffer.from('never stored')));
      assert.deepEqual(await store.stat(keep), { size: 4 });
      assert.equal((await collect(store.read(keep))).toString(), 'keep');
      // The same content can be stored again after removal.
      await put(store, Buffer.from('gone'));
      assert.equal((await collect(store.read(gone))).toString(), 'gone');
    }));

    test('removeUpload and listUploads', withStore(async ({ store }) => {
      assert.deepEqual(await listIds(store), []);
      const a = randomUUID();
      const b = randomUUID();
      await store.createUpload(a);
      await sleep(50);
      await store.createUpload(b);
      const before = Date.now();
      await store.writeUploadPart(a, chunks('x'));
      assert.deepEqual(await listIds(store), [a, b].sort());
      const listed: { id: string; modifiedAt: number }[] = [];
      for await (const u of store.listUploads()) listed.push(u);
      for (const u of listed) {
        assert.equal(typeof u.modifiedAt, 'number');
        assert.ok(Math.abs(u.modifiedAt - Date.now()) < 60_000, 'modifiedAt is epoch ms');
      }
      // A new part counts as a modification (purging must not take an upload that is being written).
      const ma = listed.find((u) => u.id === a)!.modifiedAt;
      assert.ok(ma >= before - 20, `modifiedAt ${ma} is at or after the last write ${before}`);
      await store.removeUpload(a);
      await assert.rejects(store.writeUploadPart(a, chunks('y')));
      assert.deepEqual(await listIds(store), [b]);
      await store.removeUpload(a); // idempotent
      await store.removeUpload(randomUUID());
      await store.removeUpload(b);
      assert.deepEqual(await listIds(store), []);
    }));

    test('invalid digests and upload ids are rejected before touching storage', withStore(async ({ store, outside }) => {
      const canaryNames = ['x', 'canary', 'data'];
      const canaries = outside ? canaryNames.map((n) => join(outside, n)) : [];
      for (const c of canaries) writeFileSync(c, 'canary');
      const stamp = () => canaries.map((c) => [readFileSync(c, 'utf8'), statSync(c).mtimeMs]);
      const entries = () => (outside ? readdirSync(outside).sort() : []);
      const before = stamp();
      const beforeEntries = entries();

      const hex = 'a'.repeat(64);
      const badDigests = [
        '',
        'sha256:' + hex.toUpperCase(),
        'SHA256:' + hex,
        'sha256:' + 'a'.repeat(63),
        'sha256:' + 'a'.repeat(65),
        'sha256:../' + 'a'.repeat(61),
        'sha256:../../../x',
        '../x',
        '../../canary',
        'sha256/../../x',
        'md5:' + 'a'.repeat(32),
        'sha256:' + 'g'.repeat(64),
        'sha256:' + hex + '\n',
        'sha256:' + hex + '/../../x',
        'sha512:' + 'a'.repeat(64),
      ];
      const good = await upload(store, Buffer.from('payload'));
      const goodId = good.id;
      for (const d of badDigests) {
        await assert.rejects(async () => store.stat(d), `stat ${JSON.stringify(d)}`);
        await assertReadFails(() => store.read(d));
        await assert.rejects(async () => store.remove(d), `remove ${JSON.stringify(d)}`);
        await assert.rejects(async () => store.commitUpload(goodId, good.parts, d), `commit ${JSON.stringify(d)}`);
      }
      // The upload survived every refused commit.
      assert.equal((await collect(store.readUploadParts(goodId, good.parts))).toString(), 'payload');
      // Part names are validated too: no traversal through them.
      for (const part of ['../x', '../../canary', '', 'part-../../x', 'part-ZZZZ', good.parts[0] + '/../x']) {
        await assertReadFails(() => store.readUploadParts(goodId, [part]));
        await assert.rejects(async () => store.commitUpload(goodId, [part], sha256(Buffer.from('payload'))), `commit part ${part}`);
        await assert.rejects(async () => store.removeUploadPart(goodId, part), `removeUploadPart ${part}`);
      }

      const badIds = [
        '',
        '../x',
        '../../canary',
        '../../../canary',
        '..',
        '.',
        '/etc/passwd',
        randomUUID().toUpperCase(),
        randomUUID() + '/../x',
        randomUUID().slice(0, 35),
        randomUUID() + 'a',
        'x'.repeat(36),
      ];
      for (const id of badIds) {
        const what = JSON.stringify(id);
        await assert.rejects(async () => store.createUpload(id), `createUpload ${what}`);
        await assert.rejects(async () => store.writeUploadPart(id, chunks('evil')), `writeUploadPart ${what}`);
        await assertReadFails(() => store.readUploadParts(id, good.parts));
        await assert.rejects(async () => store.commitUpload(id, good.parts, sha256(Buffer.from('evil'))), `commitUpload ${what}`);
        await assert.rejects(async () => store.removeUpload(id), `removeUpload ${what}`);
      }
      assert.deepEqual(await listIds(store), [goodId]);
      assert.deepEqual(stamp(), before, 'canaries untouched');
      assert.deepEqual(entries(), beforeEntries, 'nothing created outside the store');
    }));
  });
}
