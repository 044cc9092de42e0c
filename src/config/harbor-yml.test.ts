// harbor.yml read as Berth's configuration: Harbor 2.15's installer template and a 1.8-era file (test/fixtures),
// mapped keys, the one warning naming every unsupported key, and type errors naming the harbor.yml key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from './config.ts';
import { parseGoDuration } from './harbor-yml.ts';
import { createTestCa } from '../../test/helpers/tls.ts';

const FIXTURES = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'harbor-yml');
const tmp = () => mkdtempSync(join(tmpdir(), 'berth-harboryml-'));
const ca = createTestCa();
const pair = ca.issue('reg');

/** Writes `text` as harbor.yml in a fresh dir and loads it, collecting warnings. */
function load(text: string, env: Record<string, string> = {}) {
  const dir = tmp();
  const file = join(dir, 'harbor.yml');
  writeFileSync(file, text.replace(/^data_volume: .*$/m, `data_volume: ${join(dir, 'data')}`).replaceAll('@DIR@', dir));
  const warnings: string[] = [];
  const config = loadConfig({ file, cwd: dir, env, warn: (m) => warnings.push(m) });
  return { config, warnings, dir };
}
function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8')
    .replace('/data/cert/reg.mydomain.com.crt', pair.cert)
    .replace('/data/cert/reg.mydomain.com.key', pair.key);
}
function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    load(text, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test("Harbor 2.15's harbor.yml.tmpl: every key with a meaning is mapped, the rest named in one warning", () => {
  const { config: c, warnings, dir } = load(fixture('harbor-2.15.yml'));
  assert.equal(c.http.externalUrl, 'https://reg.mydomain.com', 'hostname + https (port 443) → external URL');
  assert.equal(c.http.port, 80);
  assert.deepEqual({ ...c.https }, { enabled: true, port: 443, certificate: pair.cert, privateKey: pair.key, redirectHttp: true, http2: true });
  assert.equal(c.auth.adminInitialPassword, 'Harbor12345');
  assert.equal(c.dataDir, join(dir, 'data'));
  assert.equal(c.database.type, 'sqlite', 'no external_database: the embedded database');
  assert.equal(c.storage.type === 'filesystem' && c.storage.filesystemRoot, join(dir, 'data', 'storage'));
  assert.equal(c.jobservice.maxJobWorkers, 10);
  assert.equal(c.log.level, 'info');
  assert.equal(c.notification.webhookJobMaxRetry, 3);
  assert.equal(c.notification.webhookJobHttpClientTimeout, 3);
  assert.equal(c.registry.uploadIdleTimeout, 168 * 3600, 'upload_purging.age 168h');
  assert.equal(c.registry.uploadPurgeInterval, 24 * 3600, 'upload_purging.interval 24h');
  assert.equal(warnings.length, 1, `exactly one warning: ${warnings.join('\n')}`);
  assert.ok(warnings[0].includes('jobservice.max_job_duration_hours'), warnings[0]);
  // Harbor's local log rotation maps onto Berth's own log file.
  for (const k of ['log.local.rotate_count', 'log.local.rotate_size', 'log.local.location'])
    assert.ok(!warnings[0].includes(k), `${k} is supported: ${warnings[0]}`);
  assert.equal(c.log.file, '/var/log/harbor/berth.log');
  assert.equal(c.log.rotateSize, 200 * 1024 * 1024, '200M');
  assert.equal(c.log.rotateCount, 50);
  assert.equal(c.harborYml!.mapped['log.local.location'], 'log.file');
  assert.doesNotMatch(warnings[0], /Harbor12345|root123/, 'values are never shown');
  const h = c.harborYml!;
  assert.equal(h.mapped.hostname, 'http.external_url');
  assert.equal(h.mapped['upload_purging.age'], 'registry.upload_idle_timeout');
  // The trivy section is noted as the built-in scanner's, not warned about.
  for (const k of ['trivy.offline_scan', 'trivy.skip_update', 'trivy.ignore_unfixed', 'trivy.timeout']) assert.ok(h.noted[k], `${k} noted`);
  for (const k of ['database.password', 'database.max_open_conns', '_version', 'cache', 'proxy.components']) assert.ok(h.noted[k], `${k} noted`);
  // Every leaf of the file is accounted for.
  const leaves = ['hostname', 'http.port', 'https.port', 'https.certificate', 'https.private_key', 'harbor_admin_password', 'data_volume', 'trivy.security_check', 'jobservice.job_loggers', 'notification.webhook_job_max_retry', 'log.level', 'upload_purging.dryrun'];
  for (const k of leaves) assert.ok(h.mapped[k] || h.noted[k] || h.unsupported[k], `${k} accounted for`);
});

test('a 1.8-era harbor.yml (plain HTTP, proxy under clair, log rotation under log)', () => {
  const { config: c, warnings } = load(fixture('harbor-1.8.yml'));
  assert.equal(c.http.externalUrl, 'http://registry.test.myop.com', 'port 80 is left out of the URL');
  assert.equal(c.http.port, 80);
  assert.equal(c.https.enabled, false);
  assert.equal(c.auth.adminInitialPassword, 'Harbor12345');
  assert.equal(c.jobservice.maxJobWorkers, 10);
  assert.equal(warnings.length, 1);
  for (const k of ['clair.updaters_interval', 'clair.no_proxy', 'chart.absolute_url'])
    assert.ok(warnings[0].includes(k), `${k} is named: ${warnings[0]}`);
  // 1.8's log rotation keys (under log, not log.local) map too.
  assert.doesNotMatch(warnings[0], /log\.(rotate_count|rotate_size|location)/);
  assert.equal(c.log.file, '/var/log/harbor/berth.log');
  assert.equal(c.log.rotateSize, 200 * 1024 * 1024);
  assert.equal(c.log.rotateCount, 50);
  // Empty values (http_proxy:) set nothing, in Harbor as here.
  assert.doesNotMatch(warnings[0], /clair\.http_proxy|clair\.https_proxy/);
  assert.ok(c.harborYml!.noted['database.password']);
  assert.ok(c.harborYml!.noted._version);
});

test('external_database.harbor becomes the PostgreSQL URL (credentials encoded), max_open_conns the pool size', () => {
  const { config: c } = load(
    'hostname: reg.example.com\nhttp:\n  port: 8080\nharbor_admin_password: Harbor12345\ndata_volume: x\n' +
      'external_database:\n  harbor:\n    host: db.example.com\n    port: 5433\n    db_name: registry\n    username: harbor\n    password: "p@ss:w/rd"\n    ssl_mode: require\n    max_idle_conns: 2\n    max_open_conns: 50\n',
  );
  assert.equal(c.database.type, 'postgres');
  assert.equal(c.database.postgresUrl, 'postgres://harbor:p%40ss%3Aw%2Frd@db.example.com:5433/registry?sslmode=require');
  assert.equal(new URL(c.database.postgresUrl).password, encodeURIComponent('p@ss:w/rd'));
  assert.equal(c.database.postgresMaxConnections, 50);
  assert.equal(c.http.externalUrl, 'http://reg.example.com:8080');
  assert.ok(c.harborYml!.noted['external_database.harbor.max_idle_conns']);
  // Harbor's "0 = no limit" keeps Berth's pool size.
  const { config: c0 } = load('hostname: h\ndata_volume: x\nexternal_database:\n  harbor:\n    host: db\n    max_open_conns: 0\n');
  assert.equal(c0.database.postgresMaxConnections, 20);
  assert.equal(c0.database.postgresUrl, 'postgres://db/registry');
});

test('wrong types are refused, each naming the harbor.yml key, all at once', () => {
  const problems = problemsOf(
    'hostname: [a, b]\nhttp:\n  port: eighty\nharbor_admin_password: Harbor12345\ndata_volume: x\njobservice:\n  max_job_workers: ten\n' +
      'log:\n  level: loud\nupload_purging:\n  enabled: sometimes\n  age: a week\nmetric:\n  enabled: yes-please\nnotification: 3\n',
  ).join('\n');
  assert.match(problems, /^hostname: expected a string/m);
  assert.match(problems, /^http\.port: expected an integer, got "eighty"/m);
  assert.match(problems, /^jobservice\.max_job_workers: expected an integer, got "ten"/m);
  assert.match(problems, /^log\.level: must be one of/m);
  assert.match(problems, /^upload_purging\.enabled: expected true or false/m);
  assert.match(problems, /^upload_purging\.age: expected a duration/m);
  assert.match(problems, /^metric\.enabled: must be one of true, false/m);
  assert.match(problems, /^notification: expected a mapping/m);
  // A value that maps onto a Berth key of another name shows both.
  assert.match(problemsOf('hostname: h\ndata_volume: x\nharbor_admin_password: short\n').join('\n'), /harbor_admin_password \(harbor\.yml, as auth\.admin_initial_password\): must be at least 8 characters/);
  assert.match(problemsOf('hostname: h\ndata_volume: x\nupload_purging:\n  age: 9000h\n').join('\n'), /upload_purging\.age \(harbor\.yml, as registry\.upload_idle_timeout\): 32400000 is out of range/);
  assert.match(problemsOf('hostname: h\ndata_volume: x\nexternal_database:\n  harbor:\n    port: 5432\n').join('\n'), /external_database\.harbor\.host: required/);
});

test('storage_service.s3 maps onto the S3 driver (storage.s3.*); redirect.disable turns presigned redirects off', () => {
  const { config: c, warnings } = load(
    'hostname: h\ndata_volume: x\nstorage_service:\n  ca_bundle: /etc/ca.pem\n  s3:\n    accesskey: AKIA\n    secretkey: very-secret\n    region: us-east-1\n' +
      '    regionendpoint: http://minio:9000\n    bucket: berth-blobs\n    rootdirectory: /registry/\n    forcepathstyle: true\n  redirect:\n    disable: true\n',
  );
  assert.equal(c.storage.type, 's3');
  if (c.storage.type !== 's3') return;
  assert.equal(c.storage.bucket, 'berth-blobs');
  assert.equal(c.storage.region, 'us-east-1');
  assert.equal(c.storage.endpoint, 'http://minio:9000');
  assert.equal(c.storage.accessKey, 'AKIA');
  assert.equal(c.storage.secretKey, 'very-secret');
  assert.equal(c.storage.rootDirectory, 'registry');
  assert.equal(c.storage.forcePathStyle, true);
  assert.equal(c.storage.redirect, false, 'redirect.disable: true');
  assert.equal(c.harborYml!.mapped['storage_service.s3.bucket'], 'storage.s3.bucket');
  // Only ca_bundle is left over, and the warning never carries the credentials.
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /storage_service\.ca_bundle/);
  assert.doesNotMatch(warnings[0], /storage_service\.s3/);
  assert.doesNotMatch(warnings.join('\n') + JSON.stringify(c.harborYml), /very-secret/);
});

test('storage root, metric, external_url, proxy, log level "warning", trivy.skip_update, env overrides', () => {
  const { config: c, warnings, dir } = load(
    'hostname: ignored.example.com\nexternal_url: https://reg.example.com:8433/\ndata_volume: x\n' +
      'storage_service:\n  filesystem:\n    rootdirectory: @DIR@/blobs\n    maxthreads: 100\n' +
      'metric:\n  enabled: true\n  port: 9191\n  path: /m\nlog:\n  level: warning\n  external_endpoint:\n    protocol: tcp\n    host: syslog\n    port: 5140\ntrivy:\n  skip_update: true\n' +
      'proxy:\n  http_proxy: http://proxy:3128\n  https_proxy:\n  no_proxy:\n  components: [core]\n',
    { BERTH_JOBSERVICE_MAX_JOB_WORKERS: '7', BERTH_METRIC_PORT: '9292' },
  );
  assert.equal(c.storage.type === 'filesystem' && c.storage.filesystemRoot, join(dir, 'blobs'));
  assert.deepEqual({ ...c.metric }, { enabled: true, port: 9292, path: '/m' });
  assert.equal(c.http.externalUrl, 'https://reg.example.com:8433');
  assert.equal(c.log.level, 'warn');
  assert.equal(c.scanner.advisoriesUpdateInterval, 0, 'skip_update stops the scheduled advisory update');
  assert.equal(c.jobservice.maxJobWorkers, 7);
  assert.ok(c.harborYml!.noted.hostname, 'hostname is noted as unused when external_url is set');
  assert.ok(c.harborYml!.noted['storage_service.filesystem.maxthreads']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /proxy\.http_proxy, proxy\.components \(no outbound HTTP proxy support\)/);
  assert.match(warnings[0], /log\.external_endpoint \(.*audit_log_forward_endpoint\)/);
  // An environment value that is wrong names the Berth key (it did not come from harbor.yml).
  const p = problemsOf('hostname: h\ndata_volume: x\nmetric:\n  port: 9191\n', { BERTH_METRIC_PORT: 'x' });
  assert.match(p.join('\n'), /^metric\.port: expected an integer/m);
});

test("ports the harbor.yml leaves out are Harbor's (443 for https), as in the URL built from hostname", () => {
  const { config: c } = load(`hostname: reg.example.com\ndata_volume: x\nhttps:\n  certificate: ${pair.cert}\n  private_key: ${pair.key}\n`);
  assert.equal(c.https.port, 443);
  assert.equal(c.http.externalUrl, 'https://reg.example.com');
  assert.equal(c.https.redirectHttp, false, 'no http section: no plain listener');
});

test('a Berth config file is not taken for a harbor.yml', () => {
  const dir = tmp();
  const f = join(dir, 'berth.yml');
  writeFileSync(f, `data_dir: ${join(dir, 'd')}\nhttp:\n  port: 6000\n`);
  const c = loadConfig({ file: f, cwd: dir, env: {} });
  assert.equal(c.http.port, 6000);
  assert.equal(c.harborYml, undefined);
});

test("Go durations as harbor.yml writes them", () => {
  assert.equal(parseGoDuration('168h'), 604800);
  assert.equal(parseGoDuration('5m0s'), 300);
  assert.equal(parseGoDuration('1h30m'), 5400);
  assert.equal(parseGoDuration('1500ms'), 2);
  assert.equal(parseGoDuration(0), 0);
  assert.equal(parseGoDuration('24'), null, 'a duration needs a unit');
  assert.equal(parseGoDuration('1d'), null);
  assert.equal(parseGoDuration(''), null);
});
