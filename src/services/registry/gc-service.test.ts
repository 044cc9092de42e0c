// GcService against the real repositories on the backend BERTH_TEST_DATABASE selects (a throwaway PostgreSQL
// database, or a SQLite file): what is garbage, what survives, the races with manifest PUTs and upload
// commits, crash leftovers, orphan files, dry run, stop, and the parallel batch loop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, dropTestDatabase } from '../../../test/helpers/pg.ts';
import type { Db, Queryable } from '../../db/db.ts';
import { SqliteDb } from '../../db/sqlite.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { migrate } from '../../db/migrations.ts';
import { FsBlobStore } from '../../storage/fs-store.ts';
import { BlobRepository } from '../../repositories/blob-repository.ts';
import { GcRepository } from '../../repositories/gc-repository.ts';
import { ManifestRepository } from '../../repositories/manifest-repository.ts';
import { RepositoryRepository } from '../../repositories/repository-repository.ts';
import { UploadRepository } from '../../repositories/upload-repository.ts';
import { BlobService } from './blob-service.ts';
import { GcService, type GcOptions } from './gc-service.ts';
import { ManifestService } from './manifest-service.ts';
import { UploadService } from './upload-service.ts';

const PG = process.env.BERTH_TEST_DATABASE === 'postgres';
const dir = mkdtempSync(join(tmpdir(), 'berth-gc-'));
const pgDatabases: string[] = [];

after(async () => {
  for (const name of pgDatabases) await dropTestDatabase(name);
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** One deployment: database, store and services, with hooks to interleave GC inside other transactions. */
async function deployment(graceMs = 0) {
  let db: Db;
  if (PG) {
    const { name, url } = await createTestDatabase('berth_gctest');
    pgDatabases.push(name);
    db = new PostgresDb(url, 10);
  } else db = new SqliteDb(join(dir, `${randomBytes(6).toString('hex')}.sqlite`));
  await migrate(db);
  const now = Date.now();
  await db.run('INSERT INTO projects (name, public, created_at, updated_at) VALUES (?, 1, ?, ?)', ['library', now, now]);
  const projectId = (await db.get<{ id: number }>('SELECT id FROM projects WHERE name = ?', ['library']))!.id;
  const project = { id: projectId, name: 'library', public: true };
  const root = join(dir, randomBytes(6).toString('hex'));
  const store = new FsBlobStore(root);
  await store.check();
  const hooks: { afterLinkCheck?: () => Promise<void>; afterStoreCommit?: () => Promise<void> } = {};
  class HookedBlobs extends BlobRepository {
    override async listLinkedDigests(repositoryId: number, digests: string[], q: Queryable): Promise<Set<string>> {
      const out = await super.listLinkedDigests(repositoryId, digests, q);
      const h = hooks.afterLinkCheck;
      hooks.afterLinkCheck = undefined;
      if (h) await h();
      return out;
    }
  }
  const hookedStore = Object.create(store) as FsBlobStore;
  hookedStore.commitUpload = async (id, parts, digest, o) => {
    await store.commitUpload(id, parts, digest, o);
    const h = hooks.afterStoreCommit;
    hooks.afterStoreCommit = undefined;
    if (h) await h();
  };
  const blobs = new HookedBlobs(db);
  const repositories = new RepositoryRepository(db);
  const manifests = new ManifestService({ db, manifests: new ManifestRepository(db), blobs, repositories });
  const uploads = new UploadService({ db, store: hookedStore, uploads: new UploadRepository(db), blobs, repositories });
  const blobService = new BlobService({ db, store, blobs, repositories });
  const gc = new GcService({ db, store, blobs, gc: new GcRepository(db), graceMs });

  async function pushBlob(repo: string, bytes: Buffer): Promise<string> {
    const u = await uploads.start(repo, 'admin', 'sha256');
    await uploads.append(u, (async function* () {
      yield bytes;
    })(), null, bytes.length);
    return (await uploads.complete(u, sha(bytes), projectId)).digest;
  }
  function manifestOf(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
    return Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })),
        ...extra,
      }),
    );
  }
  async function pushImage(repo: string, tag: string, layers: Buffer[], extra: Record<string, unknown> = {}) {
    const config = Buffer.from(JSON.stringify({ tag, r: randomBytes(4).toString('hex') }));
    await pushBlob(repo, config);
    for (const l of layers) await pushBlob(repo, l);
    const body = manifestOf(config, layers, extra);
    const { digest } = await manifests.put(repo, project, tag, body, 'application/vnd.oci.image.manifest.v1+json');
    return { digest, body, config, blobs: [config, ...layers] };
  }
  const count = async (sql: string, params: (string | number)[] = []) => Number((await db.get<{ n: number }>(sql, params))!.n);
  async function state() {
    const files = [];
    for await (const f of store.listBlobs()) files.push(f.digest);
    return {
      blobs: await count('SELECT COUNT(*) AS n FROM blobs'),
      deleting: await count('SELECT COUNT(*) AS n FROM blobs WHERE deleting IS NOT NULL'),
      links: await count('SELECT COUNT(*) AS n FROM repository_blobs'),
      manifests: await count('SELECT COUNT(*) AS n FROM manifests'),
      files: files.sort(),
    };
  }
  async function readBlob(repo: string, digest: string): Promise<Buffer> {
    await blobService.stat(repo, digest);
    const chunks: Buffer[] = [];
    for await (const c of blobService.open(digest)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  const run = (o: GcOptions = {}) => gc.run({ deleteUntagged: true, ...o });
  return { db, store, root, blobs, manifests, uploads, blobService, gc, hooks, projectId, project, pushBlob, pushImage, manifestOf, state, readBlob, run, count };
}

type Deployment = Awaited<ReturnType<typeof deployment>>;
let shared: Deployment[] = [];
before(() => {
  shared = [];
});
after(async () => {
  for (const d of shared) await d.db.close();
});
async function fresh(graceMs = 0): Promise<Deployment> {
  const d = await deployment(graceMs);
  shared.push(d);
  return d;
}

test('untagged images are collected, shared layers and tagged images stay; a dry run first reports the same and changes nothing', async () => {
  const d = await fresh();
  const base = randomBytes(3000);
  const keep = await d.pushImage('library/a', 'keep', [base, randomBytes(100)]);
  const drop = await d.pushImage('library/a', 'drop', [base, randomBytes(200)]);
  const other = await d.pushImage('library/b', 'v1', [base]);
  await d.manifests.remove('library/a', 'drop', d.project);
  const before = await d.state();
  const dry = await d.run({ dryRun: true });
  assert.deepEqual(await d.state(), before, 'a dry run changes nothing');
  assert.equal(dry.manifestsDeleted, 1);
  const real = await d.run();
  assert.equal(real.manifestsDeleted, 1);
  assert.equal(real.blobsDeleted, 2, 'the dropped image\'s config and own layer');
  assert.equal(real.bytesFreed, drop.blobs[0].length + 200);
  assert.deepEqual([dry.blobsDeleted, dry.bytesFreed, dry.linksDeleted], [real.blobsDeleted, real.bytesFreed, real.linksDeleted], 'the dry run predicted it');
  for (const img of [keep, other]) {
    const repo = img === keep ? 'library/a' : 'library/b';
    assert.deepEqual((await d.manifests.get(repo, img.digest, true)).content, img.body);
    for (const b of img.blobs) assert.deepEqual(await d.readBlob(repo, sha(b)), b);
  }
  await assert.rejects(d.manifests.get('library/a', drop.digest, false), /manifest unknown/);
  const after = await d.state();
  assert.equal(after.deleting, 0);
  assert.equal(after.files.length, after.blobs, 'one file per row');
  assert.deepEqual((await d.run()).blobsDeleted, 0, 'a second run finds nothing');
});

test('without deleteUntagged only unreferenced links and blobs go; the dry run counts them exactly', async () => {
  const d = await fresh();
  const img = await d.pushImage('library/a', 'v1', [randomBytes(500)]);
  await d.pushBlob('library/a', randomBytes(700)); // pending link, grace 0: garbage
  await d.manifests.remove('library/a', 'v1', d.project);
  const dry = await d.gc.run({ dryRun: true });
  assert.deepEqual([dry.manifestsDeleted, dry.linksDeleted, dry.blobsDeleted], [0, 1, 1]);
  const real = await d.gc.run({});
  assert.deepEqual([real.manifestsDeleted, real.linksDeleted, real.blobsDeleted, real.bytesFreed], [0, 1, 1, 700]);
  assert.deepEqual((await d.manifests.get('library/a', img.digest, true)).content, img.body, 'the untagged manifest stays');
});

test('grace: a link no manifest referenced yet survives GC within the grace; referenced data needs no window', async () => {
  const d = await fresh(3600_000);
  const pending = randomBytes(64);
  const pd = await d.pushBlob('library/a', pending);
  const img = await d.pushImage('library/a', 'v1', [randomBytes(64)]);
  await d.manifests.remove('library/a', img.digest, d.project);
  const r = await d.run();
  assert.equal(r.manifestsDeleted, 0);
  // The deleted image's blobs were referenced, so they go at once; the pending upload stays.
  assert.equal(r.blobsDeleted, 2);
  assert.deepEqual(await d.readBlob('library/a', pd), pending);
  // It is pending until referenced: a manifest PUT with it succeeds after GC.
  const body = d.manifestOf(pending, []);
  await d.manifests.put('library/a', d.project, 'cfg-only', body, 'application/vnd.oci.image.manifest.v1+json');
  const zero = await d.run({ graceMs: 0 });
  assert.equal(zero.blobsDeleted, 0, 'referenced now');
  // Untagged manifests within the grace stay too (a multi-arch push uploads its children first).
  await d.manifests.remove('library/a', 'cfg-only', d.project);
  assert.equal((await d.run()).manifestsDeleted, 0);
  const last = await d.run({ graceMs: 0 });
  assert.deepEqual([last.manifestsDeleted, last.blobsDeleted], [1, 1]);
  const s = await d.state();
  assert.deepEqual([s.blobs, s.links, s.manifests, s.files.length], [0, 0, 0, 0]);
});

test('index children and referrers: kept while their parent or subject lives, collected after', async () => {
  const d = await fresh();
  const c1 = await d.pushImage('library/multi', 'tmp1', [randomBytes(50)]);
  const c2 = await d.pushImage('library/multi', 'tmp2', [randomBytes(50)]);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [c1, c2].map((c) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: c.digest, size: c.body.length })),
    }),
  );
  await d.manifests.put('library/multi', d.project, 'latest', index, 'application/vnd.oci.image.index.v1+json');
  await d.manifests.remove('library/multi', 'tmp1', d.project);
  await d.manifests.remove('library/multi', 'tmp2', d.project);
  const sig = await d.pushImage('library/multi', 'sigtmp', [randomBytes(30)], {
    subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(index), size: index.length },
  });
  await d.manifests.remove('library/multi', 'sigtmp', d.project);
  assert.equal((await d.run()).manifestsDeleted, 0, 'children of a tagged index and a referrer of it stay');
  assert.ok(await d.manifests.get('library/multi', sig.digest, false));
  await d.manifests.remove('library/multi', 'latest', d.project);
  const r = await d.run();
  assert.equal(r.manifestsDeleted, 4, 'index, then its children and its referrer');
  assert.equal(r.blobsDeleted, 3 + 3);
  const s = await d.state();
  assert.deepEqual([s.blobs, s.links, s.manifests, s.files.length], [0, 0, 0, 0]);
});

test('race: a manifest PUT that checked its links while GC runs keeps them (GC skips or waits for the locked links)', async () => {
  const d = await fresh();
  const layer = randomBytes(4000);
  const config = Buffer.from('{"race":1}');
  await d.pushBlob('library/race', layer);
  await d.pushBlob('library/race', config);
  // Grace 0: both links are garbage until the manifest that references them commits.
  let gcRun: Promise<unknown> | null = null;
  d.hooks.afterLinkCheck = async () => {
    gcRun = d.run();
    // PostgreSQL: GC does not wait for the locked links, so let it finish while the PUT is still open.
    // SQLite: GC's transactions queue behind this one.
    if (PG) await gcRun;
  };
  const body = d.manifestOf(config, [layer]);
  await d.manifests.put('library/race', d.project, 'v1', body, 'application/vnd.oci.image.manifest.v1+json');
  await gcRun;
  assert.ok(gcRun, 'GC ran inside the PUT');
  assert.deepEqual(await d.readBlob('library/race', sha(layer)), layer);
  assert.deepEqual(await d.readBlob('library/race', sha(config)), config);
  assert.equal((await d.run()).blobsDeleted, 0);
});

test('race: GC deletes the links a manifest needs before its PUT: the PUT is refused, never acknowledged without its blobs', async () => {
  const d = await fresh();
  const layer = randomBytes(100);
  const config = Buffer.from('{"refused":1}');
  await d.pushBlob('library/race2', layer);
  await d.pushBlob('library/race2', config);
  await d.run();
  await assert.rejects(
    d.manifests.put('library/race2', d.project, 'v1', d.manifestOf(config, [layer]), 'application/vnd.oci.image.manifest.v1+json'),
    /MANIFEST_BLOB_UNKNOWN|manifest references a blob/,
  );
});

test('race: an upload whose storage commit found the blob present, then GC removed it, places its bytes again', async () => {
  const d = await fresh();
  const bytes = randomBytes(5000);
  const digest = await d.pushBlob('library/x', bytes);
  await d.blobService.remove('library/x', digest); // unlinked: garbage
  // The second upload's storage commit sees the file, then GC deletes row and file before its transaction.
  d.hooks.afterStoreCommit = async () => {
    const r = await d.run();
    assert.equal(r.blobsDeleted, 1);
    assert.equal(existsSync(join(d.root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data')), false);
  };
  assert.equal(await d.pushBlob('library/y', bytes), digest);
  assert.deepEqual(await d.readBlob('library/y', digest), bytes);
  const s = await d.state();
  assert.deepEqual([s.blobs, s.deleting, s.files], [1, 0, [digest]]);
});

test('race: an upload of a blob GC has marked deleting (crash between mark and sweep) finishes that deletion and re-places it', async () => {
  const d = await fresh();
  const bytes = randomBytes(3000);
  const digest = await d.pushBlob('library/x', bytes);
  await d.blobService.remove('library/x', digest);
  await d.db.tx((q) => new GcRepository(q).markBlobsDeleting([digest], Date.now(), q));
  // Mount refuses a blob that is being deleted: the client uploads instead.
  assert.equal(await d.blobService.mount('library/z', d.projectId, digest, ['library/x']), null);
  assert.equal(await d.pushBlob('library/y', bytes), digest);
  assert.deepEqual(await d.readBlob('library/y', digest), bytes);
  const s = await d.state();
  assert.deepEqual([s.blobs, s.deleting, s.files], [1, 0, [digest]]);
  assert.equal((await d.run({ graceMs: 3600_000 })).blobsDeleted, 0, 'the new link is pending');
});

test('crash leftovers: rows left deleting (file present or already gone) are finished by the next run', async () => {
  const d = await fresh(3600_000);
  const a = await d.pushBlob('library/x', randomBytes(10));
  const b = await d.pushBlob('library/x', randomBytes(20));
  for (const dg of [a, b]) await d.blobService.remove('library/x', dg);
  await d.db.tx((q) => new GcRepository(q).markBlobsDeleting([a, b], Date.now(), q));
  await d.store.remove(b);
  const r = await d.run();
  assert.equal(r.blobsDeleted, 2);
  const s = await d.state();
  assert.deepEqual([s.blobs, s.files.length], [0, 0]);
});

test('orphan files: a file without a row older than the grace is removed; a file with a row and a young orphan are not', async () => {
  const d = await fresh(60_000);
  const kept = await d.pushBlob('library/x', randomBytes(10));
  await d.pushImage('library/x', 'v1', [Buffer.from('layer')]);
  const put = (bytes: Buffer, ageMs: number) => {
    const dg = sha(bytes);
    const p = join(d.root, 'blobs', 'sha256', dg.slice(7, 9), dg.slice(7));
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'data'), bytes);
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(join(p, 'data'), t, t);
    return dg;
  };
  const old = put(randomBytes(33), 120_000);
  const young = put(randomBytes(44), 0);
  // An old file whose row exists (a linked blob) is not an orphan, however old.
  const kp = join(d.root, 'blobs', 'sha256', kept.slice(7, 9), kept.slice(7), 'data');
  utimesSync(kp, Date.now() / 1000 - 600, Date.now() / 1000 - 600);
  const dry = await d.run({ dryRun: true });
  assert.deepEqual([dry.orphanFilesDeleted, dry.bytesFreed], [1, 33]);
  const r = await d.run();
  assert.deepEqual([r.orphanFilesDeleted, r.blobsDeleted, r.bytesFreed], [1, 1, 33]);
  const s = await d.state();
  assert.ok(!s.files.includes(old));
  assert.ok(s.files.includes(young) && s.files.includes(kept));
  assert.equal(s.blobs, 3, 'no row was created or left behind for orphans');
});

test('batches, workers, progress and stop: 1,000 blobs half garbage, exact report; an aborted run stops early and the next finishes', async () => {
  const d = await fresh();
  const repo = (await d.db.tx((q) => new RepositoryRepository(q).saveRepositoryIfAbsent('library/many', d.projectId, q))).id;
  // Rows and files directly: 1,000 blobs, the odd ones linked.
  const now = Date.now();
  const digests: string[] = [];
  await d.db.tx(async (q) => {
    for (let i = 0; i < 1000; i++) {
      const bytes = Buffer.from(`blob-${i}`);
      const dg = sha(bytes);
      digests.push(dg);
      const p = join(d.root, 'blobs', 'sha256', dg.slice(7, 9), dg.slice(7));
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, 'data'), bytes);
      await q.run('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)', [dg, bytes.length, now]);
      if (i % 2) await q.run('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)', [repo, dg, now]);
    }
  });
  // Make the linked half referenced by a manifest row, so links are live.
  await d.db.tx(async (q) => {
    const m = await new ManifestRepository(q).saveManifest(
      { repositoryId: repo, digest: sha(Buffer.from('m')), mediaType: 'x', artifactType: null, configMediaType: null, content: Buffer.from('m'), subjectDigest: null, annotations: null },
      q,
    );
    await new ManifestRepository(q).saveTag(repo, 'v1', m.id, q);
    await new ManifestRepository(q).saveManifestReferences(m.id, digests.filter((_, i) => i % 2).map((dg) => ({ digest: dg, kind: 'blob' as const })), q);
  });
  const ac = new AbortController();
  let seen = 0;
  const stopped = await d.run({ workers: 3, batchSize: 50, signal: ac.signal, onProgress: (p) => p.phase === 'blobs' && ++seen === 2 && ac.abort() });
  assert.equal(stopped.stopped, true);
  assert.ok(stopped.blobsDeleted >= 100 && stopped.blobsDeleted < 500, `stopped early: ${stopped.blobsDeleted}`);
  const progress: number[] = [];
  const rest = await d.run({ workers: 4, batchSize: 50, onProgress: (p) => progress.push(p.blobsDeleted) });
  assert.equal(rest.stopped, false);
  assert.equal(stopped.blobsDeleted + rest.blobsDeleted, 500);
  assert.ok(progress.length >= 5 && progress.every((v, i) => i === 0 || v >= progress[i - 1]), 'progress is monotonic');
  const s = await d.state();
  assert.deepEqual([s.blobs, s.links, s.deleting, s.files.length], [500, 500, 0, 500]);
});
