// Shared setup of the /api/v2.0 tests: one Berth per file, an admin API client, and a reader of the audit log.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBerth, type Berth, type StartOptions } from '../helpers/berth.ts';
import { ApiClient, type ApiResponse } from '../helpers/api-client.ts';
import { openDatabase } from '../../src/db/open.ts';

export interface ApiFixture {
  berth: Berth;
  admin: ApiClient;
  anon: ApiClient;
}

export function useApi(opts: StartOptions = {}): ApiFixture {
  const f = {} as ApiFixture;
  before(async () => {
    f.berth = await startBerth(opts);
    f.admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
    f.anon = new ApiClient(f.berth.url);
  });
  after(async () => {
    const out = f.berth?.output() ?? '';
    await f.berth?.stop();
    assert.doesNotMatch(out, /request failed|"level":50|"level":60/, `server logged errors:\n${out.slice(-4000)}`);
  });
  return f;
}

/** Asserts a status and, for errors, Harbor's envelope with the given code. */
export function expectApi(r: ApiResponse, status: number, code?: string): void {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  if (code !== undefined) {
    const body = r.json();
    assert.ok(Array.isArray(body.errors) && body.errors.length === 1, r.text);
    assert.deepEqual(Object.keys(body.errors[0]).sort(), ['code', 'message']);
    assert.equal(body.errors[0].code, code, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  }
}

export type AuditRowView = { username: string; operation: string; resource_type: string; resource: string };

/**
 * The audit log rows, newest first, read straight from the deployment's database. Rows that come from domain
 * events (artifacts, tags, repositories, projects, quotas) are written by the event dispatcher shortly after the
 * change: pass `until` to re-read (bounded, 10 s) until it holds; the last rows are returned either way, for the
 * caller's assertions to report.
 */
export async function auditRows(b: Berth, until?: (rows: AuditRowView[]) => boolean): Promise<AuditRowView[]> {
  const db = await openDatabase({
    type: b.database,
    sqlitePath: join(b.dataDir, 'berth.db'),
    postgresUrl: b.pgUrl ?? '',
    postgresMaxConnections: 2,
  });
  try {
    const end = Date.now() + 10_000;
    for (;;) {
      const rows = await db.all<AuditRowView>('SELECT username, operation, resource_type, resource FROM audit_logs ORDER BY id DESC');
      if (!until || until(rows) || Date.now() > end) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await db.close();
  }
}
