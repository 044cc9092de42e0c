import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FsBlobStore } from './fs-store.ts';
import { runBlobStoreConformance } from './blob-store.conformance.ts';

function fixture() {
  const parent = mkdtempSync(join(tmpdir(), 'berth-fs-store-'));
  const root = join(parent, 'root');
  mkdirSync(root);
  return { parent, root, store: new FsBlobStore(root), cleanup: async () => rmSync(parent, { recursive: true, force: true }) };
}

runBlobStoreConformance('FsBlobStore', async () => {
  const f = fixture();
  return { store: f.store, cleanup: f.cleanup, outside: f.parent };
});

/** Every file under dir, as paths relative to it. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

test('FsBlobStore: layout blobs/<alg>/<xx>/<hex>/data, and no temporary files left after commit', async () => {
  const { root, store, cleanup } = fixture();
  try {
    await store.check();
    const data = Buffer.from('layer bytes');
    const hex = createHash('sha256').update(data).digest('hex');
    const id = randomUUID();
    await store.createUpload(id);
    assert.deepEqual(files(root), []);
    const { part } = await store.writeUploadPart(id, once(data));
    assert.deepEqual(files(root), [`uploads/${id}/${part}`]);
    await store.commitUpload(id, [part], `sha256:${hex}`);
    assert.deepEqual(files(root), [`blobs/sha256/${hex.slice(0, 2)}/${hex}/data`]);
    assert.deepEqual(readdirSync(join(root, 'uploads')), []);
    assert.ok(readFileSync(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')).equals(data));

    // A second commit of the same digest leaves the tree as it was.
    const id2 = randomUUID();
    await store.createUpload(id2);
    const p2 = await store.writeUploadPart(id2, once(data));
    await store.commitUpload(id2, [p2.part], `sha256:${hex}`);
    assert.deepEqual(files(root), [`blobs/sha256/${hex.slice(0, 2)}/${hex}/data`]);

    // remove takes the blob's directory away.
    await store.remove(`sha256:${hex}`);
    assert.deepEqual(files(root), []);
    assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256', hex.slice(0, 2))), []);
  } finally {
    await cleanup();
  }
});

test('FsBlobStore: listUploads ignores entries that are not upload ids', async () => {
  const { root, store, cleanup } = fixture();
  try {
    await store.check();
    mkdirSync(join(root, 'uploads', 'not-an-upload'));
    mkdirSync(join(root, 'uploads', '.tmp'));
    const id = randomUUID();
    await store.createUpload(id);
    const seen: string[] = [];
    for await (const u of store.listUploads()) seen.push(u.id);
    assert.deepEqual(seen, [id]);
  } finally {
    await cleanup();
  }
});

test('FsBlobStore: listUploads on a root without an uploads directory yields nothing; check() creates it', async () => {
  const { root, store, cleanup } = fixture();
  try {
    const seen: string[] = [];
    for await (const u of store.listUploads()) seen.push(u.id);
    assert.deepEqual(seen, []);
    await store.check();
    assert.ok(statSync(join(root, 'uploads')).isDirectory());
  } finally {
    await cleanup();
  }
});
