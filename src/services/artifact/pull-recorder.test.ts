import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDb } from '../../db/sqlite.ts';
import { migrate } from '../../db/migrations.ts';
import { ArtifactQueryRepository } from '../../repositories/artifact-query-repository.ts';
import { EventRepository } from '../../repositories/event-repository.ts';
import { EventOutbox } from '../events/outbox.ts';
import type { NewEvent } from '../events/types.ts';
import { artifactRef } from '../registry/manifest-service.ts';
import { PullRecorder } from './pull-recorder.ts';

test('pulls are batched; a failed flush keeps its counts for the next one and never throws', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pulls-'));
  const db = new SqliteDb(join(dir, 'b.db'));
  try {
    await migrate(db);
    const now = Date.now();
    await db.run("INSERT INTO projects (name, public, created_at, updated_at) VALUES ('p', 1, ?, ?)", [now, now]);
    await db.run("INSERT INTO repositories (project_id, name, created_at, updated_at) VALUES (1, 'p/r', ?, ?)", [now, now]);
    const m = await db.get<{ id: number }>(
      `INSERT INTO manifests (repository_id, digest, media_type, size, content, created_at) VALUES (1, 'sha256:${'a'.repeat(64)}', 'x', 1, ?, ?) RETURNING id`,
      [Buffer.from('m'), now],
    );
    await db.run("INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES (1, 'v1', ?, ?, ?)", [m!.id, now, now]);
    const errors: unknown[] = [];
    const rec = new PullRecorder({ db, repo: new ArtifactQueryRepository(db), intervalMs: 60_000, onError: (e) => errors.push(e) });
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) rec.record({ id: m!.id, repositoryId: 1 }, i % 2 ? 'v1' : null, now + i);
    assert.ok(performance.now() - t0 < 500, 'recording is in memory');
    const state = async () => ({
      count: Number((await db.get<{ n: number }>('SELECT pull_count AS n FROM repositories WHERE id = 1'))!.n),
      manifest: (await db.get<{ t: number | null }>('SELECT pull_time AS t FROM manifests WHERE id = ?', [m!.id]))!.t,
      tag: (await db.get<{ t: number | null }>("SELECT pull_time AS t FROM tags WHERE name = 'v1'"))!.t,
    });
    assert.deepEqual(await state(), { count: 0, manifest: null, tag: null });
    // the flush fails (table gone for a moment): nothing thrown, counts kept
    await db.run('ALTER TABLE repositories RENAME TO repositories_away');
    await rec.flush();
    assert.equal(errors.length, 1);
    await db.run('ALTER TABLE repositories_away RENAME TO repositories');
    rec.record({ id: m!.id, repositoryId: 1 }, null, now + 20_000);
    await rec.close();
    const s = await state();
    assert.equal(s.count, 10_001);
    assert.equal(Number(s.manifest), now + 20_000);
    assert.equal(Number(s.tag), now + 9_999);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pull events go to the outbox in the flush transaction; a failed flush keeps them for the next one, never doubled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pull-events-'));
  const db = new SqliteDb(join(dir, 'b.db'));
  try {
    await migrate(db);
    const rows = new EventRepository(db);
    const errors: unknown[] = [];
    const rec = new PullRecorder({ db, repo: new ArtifactQueryRepository(db), events: new EventOutbox({ events: rows }), intervalMs: 60_000, onError: (e) => errors.push(e) });
    const project = { id: 1, name: 'p', public: true };
    const pull = (i: number): NewEvent => ({
      type: 'PULL_ARTIFACT',
      operator: `u${i}`,
      projectId: 1,
      data: artifactRef(project, 'p/r', { digest: `sha256:${'b'.repeat(64)}`, mediaType: 'x' }, []),
      occurredAt: 1_000 + i,
    });
    // The manifest row does not exist: pull time/count updates touch nothing, the events are still written.
    for (let i = 0; i < 3; i++) rec.record({ id: 99, repositoryId: 99 }, null, Date.now(), pull(i));
    await db.run('ALTER TABLE events RENAME TO events_away');
    await rec.flush();
    assert.equal(errors.length, 1, 'the flush failed');
    await db.run('ALTER TABLE events_away RENAME TO events');
    rec.record({ id: 99, repositoryId: 99 }, null, Date.now(), pull(3));
    await rec.close();
    const stored = await rows.listEventsAfter(0, 100);
    assert.deepEqual(
      stored.map((e) => [e.type, e.operator, e.occurredAt]),
      [0, 1, 2, 3].map((i) => ['PULL_ARTIFACT', `u${i}`, 1_000 + i]),
    );
    assert.equal(new Set(stored.map((e) => e.id)).size, 4);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
