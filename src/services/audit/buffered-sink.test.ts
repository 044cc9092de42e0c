// BufferedAuditSink on a real SQLite database: pulls are batched into multi-row INSERTs and written by the timer
// or by flush(); other events are durable when record() resolves; a full buffer drops the oldest pulls (counted)
// and never blocks; skipDatabase forwards without writing; close() flushes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/open.ts';
import { AuditLogRepository, type AuditLogEntry } from '../../repositories/audit-log-repository.ts';
import { BufferedAuditSink, type AuditRow } from './buffered-sink.ts';

async function withRepo(fn: (repo: AuditLogRepository, inserts: number[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-audit-'));
  const db = await openDatabase({ type: 'sqlite', sqlitePath: join(dir, 'db.sqlite'), postgresUrl: '', postgresMaxConnections: 1 });
  const inserts: number[] = [];
  // The real repository; only the batch sizes are noted.
  class Counting extends AuditLogRepository {
    override async saveAuditLogs(entries: readonly Omit<AuditLogEntry, 'id'>[]): Promise<void> {
      inserts.push(entries.length);
      return super.saveAuditLogs(entries);
    }
  }
  try {
    await fn(new Counting(db), inserts);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pull = (i: number) => ({ username: 'u', operation: 'pull', resourceType: 'artifact', resource: `p/r:${i}`, projectId: 1 });

test('pulls are batched; other events flush at once', async () => {
  await withRepo(async (repo, inserts) => {
    const sink = new BufferedAuditSink({ logs: repo, flushIntervalMs: 60_000, batchSize: 100 });
    for (let i = 0; i < 250; i++) await sink.record(pull(i));
    // Batches were written as the buffer filled (at most batchSize rows per INSERT), the rest waits for the timer.
    await sink.flush();
    assert.equal(inserts.reduce((a, b) => a + b, 0), 250);
    assert.deepEqual(inserts, [100, 100, 50]);
    assert.equal((await repo.listAuditLogs(1000)).length, 250);
    inserts.length = 0;
    await sink.record(pull(1000));
    await sink.record({ username: 'admin', operation: 'create', resourceType: 'project', resource: 'p' });
    // The create resolved after its row (and the waiting pull) were written, in one INSERT.
    assert.deepEqual(inserts, [2]);
    const rows = await repo.listAuditLogs(2);
    assert.deepEqual(rows.map((r) => r.operation).sort(), ['create', 'pull']);
    assert.equal(sink.dropped, 0);
    await sink.close();
  });
});

test('the timer flushes pulls', async () => {
  await withRepo(async (repo) => {
    const sink = new BufferedAuditSink({ logs: repo, flushIntervalMs: 50 });
    await sink.record(pull(1));
    assert.equal(sink.pending, 1);
    for (let i = 0; i < 100 && sink.written === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await repo.listAuditLogs(10)).length, 1);
    await sink.close();
  });
});

test('a full buffer drops the oldest pulls and counts them; other events are kept', async () => {
  await withRepo(async (repo) => {
    // A database that hangs keeps everything in the buffer.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { saveAuditLogs: async (rows: readonly AuditRow[]) => (await gate, repo.saveAuditLogs(rows)) };
    const sink = new BufferedAuditSink({ logs: slow, flushIntervalMs: 60_000, batchSize: 10, maxBuffered: 20 });
    const started = Date.now();
    for (let i = 0; i < 10; i++) await sink.record(pull(i)); // fills one batch: its write hangs
    for (let i = 10; i < 60; i++) await sink.record(pull(i));
    assert.ok(Date.now() - started < 1000, 'recording never waits for the database');
    assert.equal(sink.pending, 20);
    assert.equal(sink.dropped, 30);
    void sink.record({ username: 'admin', operation: 'delete', resourceType: 'project', resource: 'p' });
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.pending, 20, 'a non-pull event evicts the oldest pull');
    assert.equal(sink.dropped, 31);
    release();
    await sink.close();
    const rows = await repo.listAuditLogs(100);
    assert.equal(rows.length, 30); // the first batch of 10, then 19 newest pulls and the delete
    assert.ok(rows.some((r) => r.operation === 'delete'));
    assert.ok(rows.some((r) => r.resource === 'p/r:59'));
    assert.ok(!rows.some((r) => r.resource === 'p/r:10'), 'the oldest buffered pulls were dropped');
  });
});

test('skipDatabase forwards without writing', async () => {
  await withRepo(async (repo) => {
    const sent: [AuditRow, string][] = [];
    const sink = new BufferedAuditSink({
      logs: repo,
      settings: async () => ({ skipDatabase: true, forwardEndpoint: 'syslog:514' }),
      forward: { send: (row, ep) => void sent.push([row, ep]), close: async () => {} },
    });
    await sink.record(pull(1));
    await sink.record({ username: 'admin', operation: 'create', resourceType: 'user', resource: 'bob' });
    await sink.close();
    assert.equal(sent.length, 2);
    assert.equal(sent[0][1], 'syslog:514');
    assert.equal(sent[1][0].resource, 'bob');
    assert.deepEqual(await repo.listAuditLogs(10), []);
  });
});

test('long fields are capped', async () => {
  await withRepo(async (repo) => {
    const sink = new BufferedAuditSink({ logs: repo });
    await sink.record({ username: 'u'.repeat(1000), operation: 'update', resourceType: 'user', resource: 'r'.repeat(100_000), detail: 'd'.repeat(100_000) });
    await sink.close();
    const [row] = await repo.listAuditLogs(1);
    assert.equal(row.username.length, 255);
    assert.equal(row.resource.length, 1024);
    assert.equal(row.detail!.length, 2048);
  });
});
