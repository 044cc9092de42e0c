// Prometheus metrics against a real Berth with metric.enabled on a free port: projects, repositories and artifacts
// pushed and pulled through /v2, then the separate listener scraped and its text exposition parsed (a small
// parser below, checking the format as it goes): Harbor's exporter gauges with their labels and values, core's
// request counter/summary for the calls made here, the job queue, up/health/system_info, Node process metrics.
// The main port answers /metrics with 404, and a Berth with metrics disabled opens no listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient, MediaTypes } from '../helpers/registry-client.ts';
import { ROOT, openBerthDatabase, startBerth } from '../helpers/berth.ts';
import { pushChart, pushImage } from './artifact-fixtures.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi({ env: { BERTH_METRIC_ENABLED: 'true', BERTH_METRIC_PORT: '0' } });

// ---- a parser of the Prometheus text exposition format (version 0.0.4)

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    assert.ok(m, `bad label name in: ${line}`);
    i += m[0].length;
    assert.equal(text.slice(i, i + 2), '="', `expected =" in: ${line}`);
    i += 2;
    let v = '';
    for (; text[i] !== '"'; i++) {
      assert.ok(i < text.length, `unterminated label value in: ${line}`);
      if (text[i] === '\\') {
        const e = text[++i];
        v += e === 'n' ? '\n' : e; // \\, \" and \n are the only escapes
      } else v += text[i];
    }
    i++;
    assert.ok(!(m[0] in labels), `duplicate label ${m[0]} in: ${line}`);
    labels[m[0]] = v;
    if (text[i] === ',') i++;
  }
}

// Prometheus reads NaN and Inf case-insensitively (Go's ParseFloat); prom-client writes an empty event-loop
// histogram's mean as "Nan".
function parseValue(s: string, line: string): number {
  if (/^\+?inf$/i.test(s)) return Infinity;
  if (/^-inf$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  assert.match(s, /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `bad value in: ${line}`);
  return Number(s);
}

function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      if (m[1] === 'TYPE') {
        assert.match(m[3], /^(counter|gauge|summary|histogram|untyped)$/, line);
        assert.ok(!out.types.has(m[2]), `TYPE of ${m[2]} given twice`);
        out.types.set(m[2], m[3]);
      } else out.help.set(m[2], m[3]);
      continue;
    }
    const n = NAME.exec(line);
    assert.ok(n, `bad sample line: ${line}`);
    let rest = line.slice(n[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/\s+/);
    assert.ok(parts.length === 1 || parts.length === 2, `bad sample line: ${line}`);
    out.samples.push({ name: n[0], labels, value: parseValue(parts[0], line) });
  }
  return out;
}

/** The family a sample belongs to (a summary's _sum/_count, a histogram's _bucket). */
function familyOf(e: Exposition, name: string): string | undefined {
  if (e.types.has(name)) return name;
  const base = name.replace(/_(sum|count|bucket)$/, '');
  return e.types.has(base) ? base : undefined;
}

const matches = (s: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
function series(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && matches(s, labels));
}
/** The value of the one sample with exactly these labels. */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const hits = e.samples.filter((s) => s.name === name && matches(s, labels) && Object.keys(s.labels).length === Object.keys(labels).length);
  assert.equal(hits.length, 1, `${name}${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0].value;
}

// ---- the deployment

async function metricsUrl(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const m = /Prometheus metrics at (http:\/\/\S+)/.exec(f.berth.output());
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no metrics line in the output:\n${f.berth.output()}`);
}

async function scrape(query = ''): Promise<Exposition> {
  const r = await fetch((await metricsUrl()) + query);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const e = parseExposition(await r.text());
  // Every sample belongs to a declared family.
  for (const s of e.samples) assert.ok(familyOf(e, s.name), `${s.name} has no TYPE line`);
  return e;
}

/** Scrapes until `ok` holds (pull counts are written in batches, sources are cached 2 s). */
async function scrapeUntil(ok: (e: Exposition) => boolean, what: string): Promise<Exposition> {
  let e: Exposition | null = null;
  for (const t0 = Date.now(); Date.now() - t0 < 15_000; await new Promise((r) => setTimeout(r, 250))) {
    e = await scrape();
    if (ok(e)) return e;
  }
  throw new Error(`${what} not seen in 15 s; last scrape:\n${JSON.stringify(e?.samples.filter((s) => s.name.startsWith('harbor_')))}`);
}

let ready: Promise<{ pubSize: number; privSize: number; chartSize: number }> | null = null;
const setup = () => (ready ??= seed());
async function seed() {
  await f.admin.createUser('mt-user');
  await f.admin.createProject('mt-pub', true);
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'mt-priv', metadata: { public: 'false' }, storage_limit: 10 * 1024 * 1024 }), 201);
  await f.admin.addMember('mt-priv', 'mt-user', 3);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  const pub = await pushImage(reg, 'mt-pub/app', 'v1');
  const chart = await pushChart(reg, 'mt-pub/chart', '0.1.0');
  const one = await pushImage(reg, 'mt-priv/one', 'v1');
  const two = await pushImage(reg, 'mt-priv/two', 'v1');
  return { pubSize: pub.size + chart.size, privSize: one.size + two.size, chartSize: chart.size };
}

test('exporter gauges: projects, repositories, members, quotas, artifacts by type and statistics', async () => {
  const { pubSize, privSize } = await setup();
  const e = await scrapeUntil((x) => series(x, 'harbor_project_repo_total', { project_name: 'mt-priv' })[0]?.value === 2, 'mt-priv repositories');
  for (const name of ['harbor_project_total', 'harbor_project_repo_total', 'harbor_project_member_total', 'harbor_project_quota_usage_byte', 'harbor_project_quota_byte', 'harbor_project_artifact_total', 'harbor_artifact_pulled'])
    assert.equal(e.types.get(name), 'gauge', name);
  // library is public too.
  assert.equal(value(e, 'harbor_project_total', { public: 'true' }), 2);
  assert.equal(value(e, 'harbor_project_total', { public: 'false' }), 1);
  assert.equal(value(e, 'harbor_project_repo_total', { project_name: 'mt-pub', public: 'true' }), 2);
  assert.equal(value(e, 'harbor_project_repo_total', { project_name: 'mt-priv', public: 'false' }), 2);
  assert.equal(value(e, 'harbor_project_repo_total', { project_name: 'library', public: 'true' }), 0);
  // The creator (admin) is a member of each project it created; mt-priv has mt-user too.
  assert.equal(value(e, 'harbor_project_member_total', { project_name: 'mt-pub' }), 1);
  assert.equal(value(e, 'harbor_project_member_total', { project_name: 'mt-priv' }), 2);
  assert.equal(value(e, 'harbor_project_quota_byte', { project_name: 'mt-priv' }), 10 * 1024 * 1024);
  assert.equal(value(e, 'harbor_project_quota_byte', { project_name: 'mt-pub' }), -1);
  assert.equal(value(e, 'harbor_project_quota_usage_byte', { project_name: 'mt-pub' }), pubSize);
  assert.equal(value(e, 'harbor_project_quota_usage_byte', { project_name: 'mt-priv' }), privSize);
  // The same figures as the quota API.
  const quotas = (await f.admin.call('GET', '/quotas?page_size=100')).json<{ ref: { name: string }; used: { storage: number } }[]>();
  assert.equal(quotas.find((q) => q.ref.name === 'mt-priv')!.used.storage, privSize);
  assert.equal(value(e, 'harbor_project_artifact_total', { project_name: 'mt-pub', public: 'true', artifact_type: 'IMAGE' }), 1);
  assert.equal(value(e, 'harbor_project_artifact_total', { project_name: 'mt-pub', public: 'true', artifact_type: 'CHART' }), 1);
  assert.equal(value(e, 'harbor_project_artifact_total', { project_name: 'mt-priv', public: 'false', artifact_type: 'IMAGE' }), 2);
  assert.deepEqual(series(e, 'harbor_project_artifact_total', { project_name: 'library' }), []);

  const stats = (await f.admin.call('GET', '/statistics')).json<Record<string, number>>();
  const expected: Record<string, number> = {
    harbor_statistics_total_project_amount: 3,
    harbor_statistics_public_project_amount: 2,
    harbor_statistics_private_project_amount: 1,
    harbor_statistics_total_repo_amount: 4,
    harbor_statistics_public_repo_amount: 2,
    harbor_statistics_private_repo_amount: 2,
    harbor_statistics_total_storage_consumption: pubSize + privSize,
  };
  for (const [name, v] of Object.entries(expected)) {
    assert.equal(e.types.get(name), 'gauge', name);
    assert.equal(value(e, name), v, name);
  }
  assert.equal(stats.total_storage_consumption, pubSize + privSize);
});

test('harbor_artifact_pulled follows pulls through /v2', async () => {
  await setup();
  const before = await scrapeUntil((x) => series(x, 'harbor_artifact_pulled', { project_name: 'mt-pub' }).length === 1, 'mt-pub pulls');
  const base = value(before, 'harbor_artifact_pulled', { project_name: 'mt-pub' });
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  for (let i = 0; i < 3; i++) {
    const r = await reg.request('GET', '/v2/mt-pub/app/manifests/v1', { headers: { accept: MediaTypes.OciManifest } });
    assert.equal(r.status, 200);
  }
  const after = await scrapeUntil((x) => series(x, 'harbor_artifact_pulled', { project_name: 'mt-pub' })[0]?.value === base + 3, 'three more pulls');
  assert.equal(value(after, 'harbor_artifact_pulled', { project_name: 'mt-priv' }), 0);
});

test("core request metrics: counts by method, code and Harbor's operation id; duration summary; in flight", async () => {
  await setup();
  const first = await scrape();
  const count = (e: typeof first, labels: Record<string, string>) => series(e, 'harbor_core_http_request_total', labels)[0]?.value ?? 0;
  const base = {
    list: count(first, { method: 'GET', code: '200', operation: 'listProjects' }),
    missing: count(first, { method: 'GET', code: '404', operation: 'getProject' }),
    manifest: count(first, { method: 'GET', code: '200', operation: 'v2_manifest' }),
    unknown404: count(first, { method: 'GET', code: '404', operation: 'unknown' }),
    durations: series(first, 'harbor_core_http_request_duration_seconds_count', { method: 'GET', operation: 'listProjects' })[0]?.value ?? 0,
  };
  for (let i = 0; i < 3; i++) expectApi(await f.admin.call('GET', '/projects'), 200);
  expectApi(await f.admin.call('GET', '/projects/mt-nope'), 404, 'NOT_FOUND');
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  assert.equal((await reg.request('GET', '/v2/mt-priv/one/manifests/v1', { headers: { accept: MediaTypes.OciManifest } })).status, 200);
  // The main port has no /metrics: Harbor's 404 (not the portal's HTML), counted as an unknown operation.
  const main = await fetch(`${f.berth.url}/metrics`);
  assert.equal(main.status, 404);
  assert.match(main.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(((await main.json()) as { errors: { code: string }[] }).errors[0].code, 'NOT_FOUND');

  const e = await scrape();
  assert.equal(e.types.get('harbor_core_http_request_total'), 'counter');
  assert.equal(e.types.get('harbor_core_http_request_duration_seconds'), 'summary');
  assert.equal(e.types.get('harbor_core_http_inflight_requests'), 'gauge');
  assert.equal(count(e, { method: 'GET', code: '200', operation: 'listProjects' }), base.list + 3);
  assert.equal(count(e, { method: 'GET', code: '404', operation: 'getProject' }), base.missing + 1);
  assert.equal(count(e, { method: 'GET', code: '200', operation: 'v2_manifest' }), base.manifest + 1);
  assert.equal(count(e, { method: 'GET', code: '404', operation: 'unknown' }), base.unknown404 + 1);
  // The pushes of the setup: blob uploads and manifest PUTs (two images, one chart, two images).
  assert.equal(count(e, { method: 'PUT', code: '201', operation: 'v2_manifest' }), 4);
  // Eight blobs were uploaded (config and layer of each push), whatever the upload flavour.
  const uploads = series(e, 'harbor_core_http_request_total', { operation: 'v2_blob_upload' }).filter((s) => s.labels.code.startsWith('2'));
  assert.ok(uploads.reduce((n, s) => n + s.value, 0) >= 8, JSON.stringify(uploads));
  assert.equal(value(e, 'harbor_core_http_request_duration_seconds_count', { method: 'GET', operation: 'listProjects' }), base.durations + 3);
  assert.ok(value(e, 'harbor_core_http_request_duration_seconds_sum', { method: 'GET', operation: 'listProjects' }) > 0);
  for (const quantile of ['0.5', '0.9', '0.99']) {
    const q = value(e, 'harbor_core_http_request_duration_seconds', { quantile, method: 'GET', operation: 'listProjects' });
    assert.ok(q > 0 && q < 30, `quantile ${quantile}: ${q}`);
  }
  // Scrapes go to the other listener: nothing is in flight on the main one, and scrapes are not counted.
  assert.equal(value(e, 'harbor_core_http_inflight_requests'), 0);
  assert.ok(e.samples.every((s) => s.name !== 'harbor_core_http_request_total' || s.labels.operation !== 'metrics'));
});

test('health, up per component, system_info, job queue gauges and Node process metrics', async () => {
  await setup();
  // A task nobody runs, due 30 s ago: the queue size and latency of its type.
  const db = await openBerthDatabase(f.berth);
  try {
    const now = Date.now();
    await db.run("INSERT INTO executions (vendor_type, vendor_id, status, trigger, start_time, update_time) VALUES ('MT_NOBODY', -1, 'Pending', 'manual', ?, ?)", [now, now]);
    const ex = await db.get<{ id: unknown }>("SELECT MAX(id) AS id FROM executions WHERE vendor_type = 'MT_NOBODY'");
    await db.run("INSERT INTO tasks (execution_id, job_type, status, run_at, creation_time, update_time) VALUES (?, 'MT_NOBODY', 'Pending', ?, ?, ?)", [
      Number(ex!.id),
      now - 30_000,
      now,
      now,
    ]);
  } finally {
    await db.close();
  }
  const e = await scrapeUntil((x) => series(x, 'harbor_task_queue_size', { type: 'MT_NOBODY' }).length === 1, 'the MT_NOBODY queue');
  assert.equal(value(e, 'harbor_task_queue_size', { type: 'MT_NOBODY' }), 1);
  const latency = value(e, 'harbor_task_queue_latency', { type: 'MT_NOBODY' });
  assert.ok(latency >= 30 && latency < 120, `latency ${latency}`);
  // The upload purge is scheduled on start; every job type this process runs has a concurrency series.
  assert.ok(value(e, 'harbor_task_scheduled_total') >= 1);
  const pools = series(e, 'harbor_task_concurrency', { type: 'PURGE_UPLOAD' });
  assert.equal(pools.length, 1);
  assert.ok(pools[0].labels.pool && pools[0].value >= 0);
  assert.equal(series(e, 'harbor_task_concurrency', { type: 'GARBAGE_COLLECTION' }).length, 1);

  assert.equal(value(e, 'harbor_health'), 1);
  for (const component of ['core', 'database', 'jobservice', 'registry']) assert.equal(value(e, 'harbor_up', { component }), 1, component);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(value(e, 'harbor_system_info', { auth_mode: 'db_auth', harbor_version: `v${version}`, self_registration: 'false' }), 1);

  assert.equal(e.types.get('process_cpu_user_seconds_total'), 'counter');
  assert.ok(value(e, 'process_cpu_user_seconds_total') > 0);
  assert.ok(value(e, 'process_resident_memory_bytes') > 10 * 1024 * 1024);
  assert.ok(value(e, 'process_start_time_seconds') > 1.7e9);
  assert.ok(value(e, 'nodejs_heap_size_used_bytes') > 0);
  assert.equal(series(e, 'nodejs_version_info')[0]?.labels.version, process.version);

  // Only the configured path is served; a query string (Harbor's ?comp=) is accepted.
  assert.equal((await fetch((await metricsUrl()).replace(/\/metrics$/, '/other'))).status, 404);
  const withComp = await scrape('?comp=core');
  assert.ok(series(withComp, 'harbor_core_http_request_total').length > 0);
});

test('metrics disabled (the default): no listener on metric.port, and /metrics on the main port is 404', async () => {
  // A port that was free a moment ago; a Berth with metrics disabled must leave it closed.
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  const b = await startBerth({ env: { BERTH_METRIC_PORT: String(port) } });
  try {
    assert.doesNotMatch(b.output(), /Prometheus metrics/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED');
    const r = await fetch(`${b.url}/metrics`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { errors: { code: string }[] }).errors[0].code, 'NOT_FOUND');
  } finally {
    await b.stop();
  }
});
