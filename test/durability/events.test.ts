// The event outbox through real Berth processes: a push whose client never got an answer (kill -9 right after
// its commit) still yields its event after a restart, handled exactly once; two processes of one deployment with
// concurrent pushes on both hand each event to the audit subscriber exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { auditRows, type AuditRowView } from '../api/fixture.ts';
import { openDatabase } from '../../src/db/open.ts';
import { getManifest, imageManifest, pushBlob, pushImage, putManifest, twoProcesses } from './lib.ts';

async function outboxEvents(b: Berth, type: string): Promise<{ id: string; data: string }[]> {
  const db = await openDatabase({ type: b.database, sqlitePath: join(b.dataDir, 'berth.db'), postgresUrl: b.pgUrl ?? '', postgresMaxConnections: 2 });
  try {
    return await db.all('SELECT id, data FROM events WHERE type = ? ORDER BY seq', [type]);
  } finally {
    await db.close();
  }
}

/** Waits until `pred` holds, then one more second to catch a late duplicate, and returns the matching rows. */
async function settledAudit(b: Berth, pred: (r: AuditRowView) => boolean, want: number): Promise<AuditRowView[]> {
  await auditRows(b, (rows) => rows.filter(pred).length >= want);
  await new Promise((r) => setTimeout(r, 1000));
  return (await auditRows(b)).filter(pred);
}

test('kill -9 right after the commit of a push: after the restart its event is handled, exactly once', async () => {
  const a = await startBerth();
  const open: Berth[] = [a];
  try {
    const repo = 'library/crash-event';
    await pushImage(a, repo, 'v1', randomBytes(4096), 'first');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', note: 'second', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(4096);
    const manifest = imageManifest({ digest: await pushBlob(a, repo, config), size: config.length }, [{ digest: await pushBlob(a, repo, layer), size: layer.length }]);
    await a.stop({ keepData: true });

    const c = await startBerth({ dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined, env: { BERTH_TEST_CRASH_AT: 'manifest-after-commit' } });
    open.push(c);
    const outcome = await putManifest(c, repo, 'v2', manifest).then(
      (r) => `answered ${r.status}`,
      () => 'no answer',
    );
    await c.kill9();
    assert.equal(outcome, 'no answer', c.output());

    const b = await startBerth({ dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined });
    open.push(b);
    assert.equal((await getManifest(b, repo, 'v2')).status, 200, 'the push committed');
    const rows = await settledAudit(b, (r) => r.operation === 'create' && r.resource === `${repo}:v2`, 1);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.username, 'admin');
    const events = (await outboxEvents(b, 'PUSH_ARTIFACT')).filter((e) => (JSON.parse(e.data) as { tags: string[] }).tags.includes('v2'));
    assert.equal(events.length, 1, 'one event, one id');
  } catch (e) {
    for (const b of open) process.stderr.write(`--- berth output ---\n${b.output()}\n`);
    throw e;
  } finally {
    for (const b of open.slice(1)) await b.stop({ keepData: true }).catch(() => {});
    await a.stop();
  }
});

test('two processes, concurrent pushes on both: each push is handled once by the audit subscriber', async () => {
  await twoProcesses(async (a, b) => {
    const N = 40;
    const procs = [a, b];
    await Promise.all(Array.from({ length: N }, (_, i) => pushImage(procs[i % 2]!, 'library/two-event', `t${i}`, randomBytes(512), `n${i}`)));
    const isPush = (r: AuditRowView) => r.operation === 'create' && r.resource_type === 'artifact' && r.resource.startsWith('library/two-event:');
    const rows = await settledAudit(a, isPush, N);
    assert.equal(rows.length, N, `exactly ${N} push rows`);
    assert.equal(new Set(rows.map((r) => r.resource)).size, N);
    assert.equal((await outboxEvents(a, 'PUSH_ARTIFACT')).filter((e) => e.data.includes('library/two-event')).length, N);
  });
});
