// Structured logs end to end: a real Berth with log.format=json and a small log.rotate_size, driven over HTTP
// (Basic auth, a bearer token, failed logins, /c/login, portal); every line is pino JSON with req_id, an incoming
// X-Request-Id is echoed on every route and found in its request's lines, rotation keeps count+1 bounded files,
// and no password, token or Authorization header value is in any of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';

const ROTATE_SIZE = 4096;
const ROTATE_COUNT = 3;
const WRONG_PASSWORD = 'Wrong-Secret-Pass-9';
let b: Berth;
let logDir: string;

before(async () => {
  // The log file lives in the data dir, so the helper removes both at stop.
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  logDir = join(dataDir, 'logs');
  b = await startBerth({ dataDir, env: { BERTH_LOG_LEVEL: 'info', BERTH_LOG_FORMAT: 'json', BERTH_LOG_FILE: join(logDir, 'berth.log'), BERTH_LOG_ROTATE_SIZE: String(ROTATE_SIZE), BERTH_LOG_ROTATE_COUNT: String(ROTATE_COUNT) } });
});
after(async () => {
  await b?.stop();
});

function logLines(): Record<string, unknown>[] {
  const files = readdirSync(logDir);
  return files.flatMap((f) =>
    readFileSync(join(logDir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`${f}: not JSON: ${l}`);
        }
      }),
  );
}

test('request ids, JSON fields, rotation and no secrets in the log files', async () => {
  const basic = 'Basic ' + Buffer.from(`admin:${b.adminPassword}`).toString('base64');
  const wrong = 'Basic ' + Buffer.from(`admin:${WRONG_PASSWORD}`).toString('base64');
  // A bearer token for /v2.
  const tr = await fetch(`${b.url}/service/token?service=harbor-registry&scope=registry:catalog:*`, { headers: { authorization: basic, 'x-request-id': 'tok-1' } });
  assert.equal(tr.status, 200);
  assert.equal(tr.headers.get('x-request-id'), 'tok-1');
  const token = ((await tr.json()) as { token: string }).token;
  assert.ok(token.length > 20);

  // Every route echoes a sane X-Request-Id.
  const routes: [string, string, RequestInit][] = [
    ['api-1', '/api/v2.0/users/current', { headers: { authorization: basic } }],
    ['v2-1', '/v2/', { headers: { authorization: `Bearer ${token}` } }],
    ['v2-cat', '/v2/_catalog', { headers: { authorization: `Bearer ${token}` } }],
    ['fail-1', '/api/v2.0/users/current', { headers: { authorization: wrong } }],
    ['c-login', '/c/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `principal=admin&password=${encodeURIComponent(WRONG_PASSWORD)}` }],
    ['portal-1', '/', {}],
    ['missing-1', '/no/such/route', {}],
  ];
  for (const [id, path, init] of routes) {
    const r = await fetch(b.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-request-id': id } });
    await r.arrayBuffer();
    assert.equal(r.headers.get('x-request-id'), id, `${path} echoes X-Request-Id`);
  }
  // An insane one (space, too long) is replaced by a generated id.
  for (const bad of ['has space', 'x'.repeat(129), 'a;b']) {
    const r = await fetch(`${b.url}/v2/`, { headers: { 'x-request-id': bad } });
    await r.arrayBuffer();
    const got = r.headers.get('x-request-id') ?? '';
    assert.notEqual(got, bad);
    assert.match(got, /^[0-9a-f-]{36}$/);
  }
  // Enough traffic to rotate several times.
  for (let i = 0; i < 150; i++) {
    const r = await fetch(`${b.url}/api/v2.0/users/current`, { headers: { authorization: i % 5 === 0 ? wrong : basic, 'x-request-id': `load-${i}` } });
    await r.arrayBuffer();
  }
  // The last requests' ids are in the kept files (older ones may have rotated away).
  const tail = await fetch(`${b.url}/v2/`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'last-v2' } });
  await tail.arrayBuffer();
  const tail2 = await fetch(`${b.url}/api/v2.0/users/current`, { headers: { authorization: wrong, 'x-request-id': 'last-fail' } });
  assert.equal(tail2.status, 401);
  await tail2.arrayBuffer();
  // Writes are synchronous in the server; a moment for the onResponse record of the last request.
  await new Promise((r) => setTimeout(r, 300));

  const files = readdirSync(logDir).sort();
  assert.ok(files.length <= ROTATE_COUNT + 1, `at most ${ROTATE_COUNT + 1} files: ${files.join(', ')}`);
  assert.ok(files.includes(`berth.log.${ROTATE_COUNT}`), `rotated ${ROTATE_COUNT} times at least: ${files.join(', ')}`);
  for (const f of files) assert.ok(statSync(join(logDir, f)).size <= ROTATE_SIZE, `${f} ≤ ${ROTATE_SIZE} bytes`);

  const lines = logLines();
  assert.ok(lines.length > 20);
  for (const l of lines) {
    assert.equal(typeof l.level, 'number');
    assert.ok((l.level as number) >= 10 && (l.level as number) <= 60);
    assert.equal(typeof l.time, 'number');
    assert.ok(Math.abs((l.time as number) - Date.now()) < 10 * 60_000, 'time is epoch ms');
    assert.equal(typeof l.msg, 'string');
    assert.equal(typeof l.pid, 'number');
    assert.equal(typeof l.hostname, 'string');
  }
  for (const id of ['last-v2', 'last-fail', 'load-149']) {
    const mine = lines.filter((l) => l.req_id === id);
    assert.ok(mine.length >= 1, `${id} appears in the log: ${JSON.stringify(lines.slice(-4))}`);
  }
  const fail = lines.find((l) => l.req_id === 'last-fail');
  assert.equal(fail?.status, 401);

  // No secret in any file, in any form.
  const all = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n');
  for (const secret of [b.adminPassword, WRONG_PASSWORD, token, token.split('.')[2], basic, basic.slice(6), wrong.slice(6)])
    assert.ok(!all.includes(secret), `a secret is in the log: ${secret.slice(0, 12)}…`);
});

test('a log file that cannot be created is one config error naming log.file', async () => {
  await assert.rejects(
    startBerth({ env: { BERTH_LOG_FILE: '/dev/null/berth-cannot/berth.log' } }),
    (e: Error) => /log\.file: cannot open/.test(e.message) && /exited with [1-9]/.test(e.message),
  );
});
