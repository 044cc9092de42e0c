// Artifact list benchmark: one repository with 100 artifacts and one with 100,000 (each tagged, every other one
// labelled), then p50/p99 of `GET /api/v2.0/projects/{p}/repositories/{r}/artifacts?page_size=100&with_tag=true
// &with_label=true` on a real Berth process. One real image is pushed through /v2 into each repository; the
// other rows are inserted straight into the database (same manifest content, distinct digests). Usage:
//   node bench/api-list.ts [requests=200] [big=100000]                (SQLite)
//   BERTH_TEST_DATABASE=postgres BERTH_TEST_PG_URL=... node bench/api-list.ts
import { createHash } from 'node:crypto';
import { startBerth, openBerthDatabase } from '../test/helpers/berth.ts';
import { ApiClient } from '../test/helpers/api-client.ts';
import { RegistryClient } from '../test/helpers/registry-client.ts';
import { pushImage } from '../test/api/artifact-fixtures.ts';
import type { Queryable } from '../src/db/db.ts';

const REQUESTS = Number(process.argv[2] ?? 200);
const BIG = Number(process.argv[3] ?? 100_000);
const SIZES = [100, BIG];

const berth = await startBerth({ env: { BERTH_LOG_LEVEL: 'silent' } });
const db = await openBerthDatabase(berth);
try {
  const admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
  const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
  const pid = await admin.createProject('bench', false);
  const label = Number((await admin.call('POST', '/labels', { name: 'bench', scope: 'p', project_id: pid })).headers.get('location')!.split('/').pop());
  const rows: { n: number; p50: number; p99: number; mean: number; seed: number }[] = [];
  const paths: string[] = [];
  const seeds: number[] = [];
  for (const n of SIZES) {
    const repo = `bench/r${n}`;
    const first = await pushImage(reg, repo, 't0');
    const t0 = Date.now();
    await seed(db, repo, first.bytes, n - 1, label);
    seeds.push(Date.now() - t0);
    const path = `/projects/bench/repositories/r${n}/artifacts?page_size=100&with_tag=true&with_label=true`;
    const check = await admin.call('GET', path);
    if (check.status !== 200 || check.headers.get('x-total-count') !== String(n) || check.json().length !== 100)
      throw new Error(`unexpected list: ${check.status} total=${check.headers.get('x-total-count')} ${check.text.slice(0, 300)}`);
    for (let i = 0; i < 20; i++) await admin.call('GET', path);
    paths.push(path);
  }
  // Interleaved, so both sizes see the same machine load.
  const times: number[][] = SIZES.map(() => []);
  for (let i = 0; i < REQUESTS; i++)
    for (let k = 0; k < paths.length; k++) {
      const s = performance.now();
      const r = await admin.call('GET', paths[k]);
      times[k].push(performance.now() - s);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
    }
  SIZES.forEach((n, k) => {
    const t = times[k].sort((a, b) => a - b);
    const pct = (p: number) => t[Math.min(t.length - 1, Math.floor((p / 100) * t.length))];
    rows.push({ n, p50: pct(50), p99: pct(99), mean: t.reduce((a, b) => a + b, 0) / t.length, seed: seeds[k] });
  });
  console.log(`\nGET .../artifacts?page_size=100&with_tag=true&with_label=true  (${berth.database}, ${REQUESTS} sequential requests each, the two repositories interleaved)\n`);
  console.log('artifacts in repo | p50 ms | p99 ms | mean ms | seeded in');
  console.log('----------------: | -----: | -----: | ------: | --------:');
  for (const r of rows) console.log(`${String(r.n).padStart(17)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ${r.mean.toFixed(1).padStart(7)} | ${(r.seed / 1000).toFixed(1)} s`);
  console.log(`\nratio p50 ${BIG}/100: ${(rows[1].p50 / rows[0].p50).toFixed(2)}x`);
} finally {
  await db.close();
  await berth.stop();
}

/** `count` more artifacts in `repo`: manifests with the pushed content under fresh digests, one tag each, every other one labelled. */
async function seed(db: { tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> } & Queryable, repo: string, content: Buffer, count: number, labelId: number) {
  const r = await db.get<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [repo]);
  const repoId = Number(r!.id);
  const base = Date.now() - count * 10;
  const BATCH = 200;
  for (let start = 0; start < count; start += BATCH * 10) {
    await db.tx(async (q) => {
      for (let b = start; b < Math.min(count, start + BATCH * 10); b += BATCH) {
        const n = Math.min(BATCH, count - b);
        const ms: unknown[] = [];
        for (let i = 0; i < n; i++) {
          const k = b + i + 1;
          const digest = 'sha256:' + createHash('sha256').update(`bench-${repo}-${k}`).digest('hex');
          ms.push(repoId, digest, 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.config.v1+json', 'application/vnd.oci.image.config.v1+json', content.length, content, base + k * 10);
        }
        const ids = await q.all<{ id: number }>(
          `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, config_media_type, size, content, created_at) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(',')} RETURNING id`,
          ms as never[],
        );
        const tags: unknown[] = [];
        const labels: unknown[] = [];
        ids.forEach((row, i) => {
          tags.push(repoId, `t${b + i + 1}`, row.id, base, base);
          if ((b + i) % 2 === 0) labels.push(row.id, labelId, base);
        });
        await q.run(`INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES ${ids.map(() => '(?, ?, ?, ?, ?)').join(',')}`, tags as never[]);
        if (labels.length) await q.run(`INSERT INTO artifact_labels (manifest_id, label_id, created_at) VALUES ${Array.from({ length: labels.length / 3 }, () => '(?, ?, ?)').join(',')}`, labels as never[]);
      }
    });
  }
  if ('dialect' in db && db.dialect === 'postgres') await db.run('ANALYZE');
}
