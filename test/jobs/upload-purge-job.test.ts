// The upload purge as a scheduled job on a real deployment: two Berth processes share one database, the purge
// runs every second, and each occurrence gives exactly one PURGE_UPLOAD execution (not one per process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import type { Db } from '../../src/db/db.ts';
import { SqliteDb } from '../../src/db/sqlite.ts';
import { PostgresDb } from '../../src/db/postgres.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two processes: the PURGE_UPLOAD schedule fires once per interval and every execution succeeds', async () => {
  const env = { BERTH_REGISTRY_UPLOAD_PURGE_INTERVAL: '1', BERTH_JOBSERVICE_MAX_JOB_WORKERS: '2' };
  const a = await startBerth({ env });
  const aReady = Date.now();
  let b: Berth | null = null;
  let db: Db | null = null;
  try {
    b = await startBerth({ env, dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined });
    await sleep(4500);
    db = a.pgUrl ? new PostgresDb(a.pgUrl, 2) : new SqliteDb(join(a.dataDir, 'berth.db'));
    const rows = await db.all<{ id: number; status: string; trigger: string; start_time: number; extra_attrs: string }>(
      "SELECT id, status, trigger, start_time, extra_attrs FROM executions WHERE vendor_type = 'PURGE_UPLOAD' ORDER BY id",
    );
    // About one per second since the first process started (b's start may take seconds on a loaded machine, so
    // the bound follows the clock); two processes firing each occurrence would give about twice as many.
    const most = Math.floor((Date.now() - aReady) / 1000) + 1;
    assert.ok(rows.length >= 2 && rows.length <= most, `${rows.length} executions in ${Date.now() - aReady} ms: ${JSON.stringify(rows)}`);
    const seconds = rows.map((r) => Math.floor(Number(r.start_time) / 1000));
    for (let i = 1; i < seconds.length; i++) assert.ok(Number(rows[i].start_time) - Number(rows[i - 1].start_time) >= 900, `fired twice within a second: ${seconds}`);
    for (const r of rows.slice(0, -1)) {
      assert.equal(r.status, 'Success');
      assert.equal(r.trigger, 'schedule');
      assert.equal(JSON.parse(r.extra_attrs).purged, 0);
    }
    const schedules = await db.all<{ cron: string }>("SELECT cron FROM schedules WHERE vendor_type = 'PURGE_UPLOAD'");
    assert.deepEqual(schedules.map((s) => s.cron), ['@every 1s']);
  } catch (e) {
    process.stderr.write(`--- a ---\n${a.output()}\n--- b ---\n${b?.output() ?? ''}\n`);
    throw e;
  } finally {
    await db?.close();
    await b?.stop({ keepData: true });
    await a.stop();
  }
});
