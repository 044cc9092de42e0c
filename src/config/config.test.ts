import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, envName } from './config.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'berth-config-'));

test('defaults: embedded SQLite under ./data on port 5000', () => {
  const dir = tmp();
  const c = loadConfig({ cwd: dir, env: {} });
  assert.equal(c.http.port, 5000);
  assert.equal(c.database.type, 'sqlite');
  assert.equal(c.dataDir, join(dir, 'data'));
  assert.equal(c.database.sqlitePath, join(dir, 'data', 'berth.db'));
  assert.equal(c.storage.type === 'filesystem' && c.storage.filesystemRoot, join(dir, 'data', 'storage'));
  assert.equal(c.registry.maxManifestSize, 4 * 1024 * 1024);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.http));
});

test('YAML file with environment overrides on top', () => {
  const dir = tmp();
  const f = join(dir, 'berth.yml');
  writeFileSync(f, 'http:\n  port: 6000\n  host: 127.0.0.1\ndatabase:\n  type: postgres\n  postgres:\n    url: postgres://u@h/db\n');
  const c = loadConfig({ cwd: dir, file: f, env: { BERTH_HTTP_PORT: '7000' } });
  assert.equal(c.http.port, 7000);
  assert.equal(c.http.host, '127.0.0.1');
  assert.equal(c.database.type, 'postgres');
  assert.equal(c.database.postgresUrl, 'postgres://u@h/db');
  assert.equal(envName('database.postgres.url'), 'BERTH_DATABASE_POSTGRES_URL');
});

test('every bad value is reported at once, with its key', () => {
  const dir = tmp();
  const f = join(dir, 'bad.yml');
  writeFileSync(f, 'http:\n  port: 70000\n  colour: blue\ndatabase:\n  type: mysql\n');
  try {
    loadConfig({ cwd: dir, file: f, env: { BERTH_LOG_LEVEL: 'loud', BERTH_NOPE: '1', BERTH_HTTP_EXTERNAL_URL: 'ftp://x' }, warn: () => {} });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = e.problems.join('\n');
    assert.match(text, /http\.port: 70000 is out of range/);
    assert.match(text, /http\.colour: unknown key/);
    assert.match(text, /database\.type: must be one of sqlite, postgres/);
    assert.match(text, /log\.level: must be one of/);
    assert.doesNotMatch(text, /BERTH_NOPE/, 'an unknown environment variable is a warning, not a problem');
    assert.match(text, /http\.external_url: not an http\(s\) URL/);
  }
});

test('non-integer port and missing postgres url are refused', () => {
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_HTTP_PORT: '50a' } }), /http\.port: expected an integer/);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_DATABASE_TYPE: 'postgres' } }), /database\.postgres\.url: required/);
});

test('invalid YAML and unreadable files give a clear message', () => {
  const dir = tmp();
  const f = join(dir, 'x.yml');
  writeFileSync(f, 'http: [unclosed');
  assert.throws(() => loadConfig({ cwd: dir, file: f, env: {} }), /not valid YAML/);
  assert.throws(() => loadConfig({ cwd: dir, file: join(dir, 'missing.yml'), env: {} }), /cannot read config file/);
});

test('an unwritable data directory is refused at start', () => {
  const dir = tmp();
  // A regular file where a directory is expected cannot be created even by root.
  const blocker = join(dir, 'file');
  writeFileSync(blocker, 'x');
  assert.throws(() => loadConfig({ cwd: dir, env: { BERTH_DATA_DIR: join(blocker, 'data') } }), /directory is not writable/);
});

test('event outbox settings: defaults, environment, bounds', () => {
  assert.deepEqual({ ...loadConfig({ cwd: tmp(), env: {} }).events }, { pollInterval: 500, retention: 3600 });
  assert.deepEqual({ ...loadConfig({ cwd: tmp(), env: { BERTH_EVENTS_POLL_INTERVAL: '100', BERTH_EVENTS_RETENTION: '0' } }).events }, { pollInterval: 100, retention: 0 });
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_EVENTS_POLL_INTERVAL: '5' } }), /events\.poll_interval/);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_EVENTS_RETENTION: '-1' } }), /events\.retention/);
});

test("metric: Harbor's defaults (off, port 9090, /metrics), the YAML block with booleans, env overrides and validation", () => {
  const d = loadConfig({ cwd: tmp(), env: {} });
  assert.deepEqual({ ...d.metric }, { enabled: false, port: 9090, path: '/metrics' });
  const dir = tmp();
  const f = join(dir, 'berth.yml');
  writeFileSync(f, 'metric:\n  enabled: true\n  port: 9191\n  path: /prom\n');
  const c = loadConfig({ cwd: dir, file: f, env: { BERTH_METRIC_PORT: '9292' } });
  assert.deepEqual({ ...c.metric }, { enabled: true, port: 9292, path: '/prom' });
  assert.equal(loadConfig({ cwd: tmp(), env: { BERTH_METRIC_ENABLED: 'false' } }).metric.enabled, false);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_METRIC_ENABLED: 'yes' } }), /metric\.enabled: must be one of true, false/);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_METRIC_PATH: 'metrics' } }), /metric\.path: must be a path starting with \//);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_METRIC_PATH: '/m?x=1' } }), /metric\.path/);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_METRIC_PORT: '70000' } }), /metric\.port: 70000 is out of range/);
  assert.throws(
    () => loadConfig({ cwd: tmp(), env: { BERTH_METRIC_ENABLED: 'true', BERTH_METRIC_PORT: '5000' } }),
    /metric\.port: 5000 is already http\.port/,
  );
});

test('security.outbound_allowlist: empty by default, comma-separated from the environment, malformed entries refused', () => {
  assert.deepEqual([...loadConfig({ cwd: tmp(), env: {} }).security.outboundAllowlist], []);
  const c = loadConfig({ cwd: tmp(), env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32, hooks.internal ,.corp.example' } });
  assert.deepEqual([...c.security.outboundAllowlist], ['127.0.0.1/32', 'hooks.internal', '.corp.example']);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '10.0.0.0/40' } }), /security\.outbound_allowlist: not a CIDR/);
});

test('unknown BERTH_* environment variables (Kubernetes service links) are warned about, and Berth starts', () => {
  const warnings: string[] = [];
  const env = { BERTH_PORT: 'tcp://10.0.0.7:5000', BERTH_SERVICE_HOST: '10.0.0.7', BERTH_PORT_5000_TCP: 'tcp://10.0.0.7:5000', BERTH_HTTP_PORT: '6000' };
  const c = loadConfig({ cwd: tmp(), env, warn: (m) => warnings.push(m) });
  assert.equal(c.http.port, 6000);
  assert.deepEqual(warnings.sort(), [
    'BERTH_PORT: unknown environment variable, ignored',
    'BERTH_PORT_5000_TCP: unknown environment variable, ignored',
    'BERTH_SERVICE_HOST: unknown environment variable, ignored',
  ]);
});

test('scanner.advisories: empty by default, a path resolved against the working directory, http(s) URLs kept, other schemes refused', () => {
  const d = loadConfig({ cwd: tmp(), env: {} });
  assert.deepEqual([d.scanner.advisories, d.scanner.advisoriesUpdateInterval], ['', 86400]);
  const dir = tmp();
  const c = loadConfig({ cwd: dir, env: { BERTH_SCANNER_ADVISORIES: 'osv/all.zip', BERTH_SCANNER_ADVISORIES_UPDATE_INTERVAL: '0' } });
  assert.deepEqual([c.scanner.advisories, c.scanner.advisoriesUpdateInterval], [join(dir, 'osv', 'all.zip'), 0]);
  const u = loadConfig({ cwd: tmp(), env: { BERTH_SCANNER_ADVISORIES: 'https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip' } });
  assert.equal(u.scanner.advisories, 'https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip');
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_SCANNER_ADVISORIES: 'ftp://mirror/all.zip' } }), /scanner\.advisories: not an http\(s\) URL/);
  assert.throws(() => loadConfig({ cwd: tmp(), env: { BERTH_SCANNER_ADVISORIES_UPDATE_INTERVAL: '-1' } }), /scanner\.advisories_update_interval: -1 is out of range/);
});

test('TLS: the certificate and key are read and matched at load; each problem names its key', async () => {
  const { createTestCa } = await import('../../test/helpers/tls.ts');
  const ca = createTestCa();
  const a = ca.issue('a');
  const b = ca.issue('b');
  const dir = tmp();
  const load = (env: Record<string, string>) => loadConfig({ cwd: dir, env: { BERTH_DATA_DIR: join(dir, 'd'), ...env } });
  const ok = load({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: a.key, BERTH_HTTPS_PORT: '0' });
  assert.deepEqual({ ...ok.https }, { enabled: true, port: 0, certificate: a.cert, privateKey: a.key, redirectHttp: false, http2: true });
  assert.equal(load({}).https.enabled, false, 'no certificate: no TLS');
  assert.throws(() => load({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: b.key }), /https\.private_key: .*b\.key does not match the certificate .*a\.crt/);
  assert.throws(() => load({ BERTH_HTTPS_CERTIFICATE: join(dir, 'missing.crt'), BERTH_HTTPS_PRIVATE_KEY: a.key }), /https\.certificate: cannot read .*missing\.crt \(ENOENT\)/);
  // A directory where the key should be: unreadable as a file (root reads any mode, so a chmod would prove nothing).
  assert.throws(() => load({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: dir }), /https\.private_key: cannot read .* \(EISDIR\)/);
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
  assert.throws(() => load({ BERTH_HTTPS_CERTIFICATE: join(dir, 'junk.pem'), BERTH_HTTPS_PRIVATE_KEY: a.key }), /https\.certificate: .*junk\.pem is not a PEM certificate/);
  try {
    load({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: join(dir, 'junk.pem') });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.match(String(e), /https\.private_key: .*junk\.pem is not an unencrypted PEM private key/);
  }
  assert.throws(() => load({ BERTH_HTTPS_CERTIFICATE: a.cert }), /https\.private_key: required when https\.certificate is set/);
  assert.throws(
    () => load({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: a.key, BERTH_HTTPS_PORT: '6000', BERTH_HTTP_PORT: '6000', BERTH_HTTPS_REDIRECT_HTTP: 'true' }),
    /https\.port: 6000 is already http\.port/,
  );
});
