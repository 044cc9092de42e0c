// Portal sessions: POST /c/login and GET /c/log_out, the `sid` cookie (flags, rotation, server-side store shared
// by processes, hashed ids), ends on logout / password change / user deletion / idle / lifetime, and Harbor's
// CSRF header on cookie-authenticated unsafe requests (CVE-2019-19025). Basic-auth calls need no CSRF token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openBerthDatabase, startBerth } from '../helpers/berth.ts';
import { auditRows, expectApi, useApi } from './fixture.ts';

const f = useApi({ env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '3' } });
const PW = 'Sessi0n-Passw0rd';

interface Resp {
  status: number;
  headers: Headers;
  text: string;
}

async function http(base: string, method: string, path: string, opts: { cookie?: string; csrf?: string; body?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Resp> {
  const h: Record<string, string> = { ...opts.headers };
  if (opts.cookie) h.cookie = opts.cookie;
  if (opts.csrf !== undefined) h['x-harbor-csrf-token'] = opts.csrf;
  let body: string | undefined;
  if (opts.form) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const r = await fetch(base + path, { method, headers: h, body, redirect: 'manual' });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

interface Session {
  sid: string;
  csrf: string;
  cookie: string;
  setCookies: string[];
  resp: Resp;
}

async function login(username: string, password: string, opts: { base?: string; cookie?: string; headers?: Record<string, string> } = {}): Promise<Session> {
  const resp = await http(opts.base ?? f.berth.url, 'POST', '/c/login', { form: { principal: username, password }, cookie: opts.cookie, headers: opts.headers });
  assert.equal(resp.status, 200, resp.text);
  const setCookies = resp.headers.getSetCookie();
  const sid = /^sid=([^;]*)/.exec(setCookies.find((c) => c.startsWith('sid='))!)![1];
  const csrf = /^__csrf=([^;]*)/.exec(setCookies.find((c) => c.startsWith('__csrf='))!)![1];
  return { sid, csrf, cookie: `sid=${sid}; __csrf=${csrf}`, setCookies, resp };
}

const api = (s: Session, method: string, path: string, opts: { csrf?: string | null; body?: unknown; base?: string } = {}) =>
  http(opts.base ?? f.berth.url, method, '/api/v2.0' + path, { cookie: s.cookie, csrf: opts.csrf === null ? undefined : (opts.csrf ?? s.csrf), body: opts.body });

const current = async (s: Session, base?: string) => {
  const r = await api(s, 'GET', '/users/current', { base });
  return r.status === 200 ? (JSON.parse(r.text).username as string) : r.status;
};

test('login: 200, sid cookie HttpOnly + SameSite=Lax (no Secure over plain http), JS-readable __csrf, CSRF header; /users/current works', async () => {
  await f.admin.createUser('sam', PW);
  const s = await login('sam', PW);
  assert.equal(s.resp.text, '');
  const sidCookie = s.setCookies.find((c) => c.startsWith('sid='))!;
  assert.match(sidCookie, /; HttpOnly/);
  assert.match(sidCookie, /; SameSite=Lax/);
  assert.match(sidCookie, /; Path=\//);
  assert.doesNotMatch(sidCookie, /Secure/);
  const csrfCookie = s.setCookies.find((c) => c.startsWith('__csrf='))!;
  assert.doesNotMatch(csrfCookie, /HttpOnly/);
  assert.equal(s.resp.headers.get('x-harbor-csrf-token'), s.csrf);
  assert.match(s.sid, /^[A-Za-z0-9_-]{43}$/); // 256 random bits
  assert.equal(await current(s), 'sam');
  // Every cookie-authenticated response carries the token.
  const r = await api(s, 'GET', '/users/current');
  assert.equal(r.headers.get('x-harbor-csrf-token'), s.csrf);
  const me = JSON.parse(r.text);
  assert.equal(me.sysadmin_flag, false);
  // Audit: a login event for sam.
  assert.ok((await auditRows(f.berth)).some((a) => a.operation === 'login' && a.username === 'sam'));
  // Two logins give two different sessions.
  assert.notEqual((await login('sam', PW)).sid, s.sid);
});

test('login over https (X-Forwarded-Proto) sets Secure on both cookies', async () => {
  const s = await login('admin', f.berth.adminPassword, { headers: { 'x-forwarded-proto': 'https' } });
  for (const c of s.setCookies) assert.match(c, /; Secure/, c);
});

test('wrong password, unknown user, empty fields → 401 and no cookie; lockout applies to /c/login', async () => {
  await f.admin.createUser('lucy', PW);
  for (const [u, p] of [
    ['lucy', 'Wrong-Passw0rd'],
    ['nobody-here', PW],
    ['', ''],
    ['lucy', ''],
  ]) {
    const r = await http(f.berth.url, 'POST', '/c/login', { form: { principal: u, password: p } });
    expectApi({ ...r, json: () => JSON.parse(r.text), errorCode: () => null }, 401, 'UNAUTHORIZED');
    assert.equal(r.headers.getSetCookie().length, 0);
  }
  assert.ok((await auditRows(f.berth)).some((a) => a.operation === 'login_failed' && a.resource === 'lucy'));
  // Threshold 3 in this file: two more failures lock lucy, and then even the right password is refused.
  for (let i = 0; i < 2; i++) assert.equal((await http(f.berth.url, 'POST', '/c/login', { form: { principal: 'lucy', password: 'Wrong-Passw0rd' } })).status, 401);
  assert.equal((await http(f.berth.url, 'POST', '/c/login', { form: { principal: 'lucy', password: PW } })).status, 401);
  // Not a form → 400.
  assert.equal((await http(f.berth.url, 'POST', '/c/login', { body: { principal: 'admin', password: f.berth.adminPassword } })).status, 400);
});

test('CSRF: cookie-authenticated unsafe requests need the matching X-Harbor-CSRF-Token; Basic calls do not', async () => {
  const s = await login('admin', f.berth.adminPassword);
  const other = await login('admin', f.berth.adminPassword);
  const body = { project_name: 'csrf-a', metadata: { public: 'false' } };
  for (const csrf of [null, '', 'x', other.csrf, s.csrf.slice(0, -1) + (s.csrf.endsWith('A') ? 'B' : 'A')]) {
    const r = await api(s, 'POST', '/projects', { csrf, body });
    assert.equal(r.status, 403, `csrf=${csrf}: ${r.text}`);
    assert.deepEqual(JSON.parse(r.text), { errors: [{ code: 'FORBIDDEN', message: 'CSRF token invalid' }] });
  }
  expectApi(await f.admin.call('GET', '/projects/csrf-a', undefined, { 'X-Is-Resource-Name': 'true' }), 404, 'NOT_FOUND'); // nothing created
  assert.equal((await api(s, 'POST', '/projects', { body })).status, 201);
  // PUT and DELETE too.
  const put = { metadata: { auto_scan: 'true' } };
  assert.equal((await api(s, 'PUT', '/projects/csrf-a', { csrf: null, body: put })).status, 403);
  assert.equal((await http(f.berth.url, 'PUT', '/api/v2.0/projects/csrf-a', { cookie: s.cookie, body: put, headers: { 'x-is-resource-name': 'true' } })).status, 403);
  assert.equal((await http(f.berth.url, 'DELETE', '/api/v2.0/projects/csrf-a', { cookie: s.cookie, headers: { 'x-is-resource-name': 'true' } })).status, 403);
  assert.equal((await http(f.berth.url, 'DELETE', '/api/v2.0/projects/csrf-a', { cookie: s.cookie, csrf: s.csrf, headers: { 'x-is-resource-name': 'true' } })).status, 200);
  // Safe methods need no token.
  assert.equal((await api(s, 'GET', '/projects', { csrf: null })).status, 200);
  // Basic auth: no token needed, even with a (foreign) cookie attached — the cookie is not used then.
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'csrf-b', metadata: { public: 'false' } }, { cookie: s.cookie }), 201);
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'csrf-c', metadata: { public: 'false' } }), 201);
  // /c/login itself is exempt (the browser has no token before login).
  const again = await login('admin', f.berth.adminPassword, { cookie: s.cookie });
  assert.notEqual(again.sid, s.sid);
});

test('logout ends the session and clears the cookies; the old id is then anonymous', async () => {
  const s = await login('admin', f.berth.adminPassword);
  assert.equal(await current(s), 'admin');
  const r = await http(f.berth.url, 'GET', '/c/log_out', { cookie: s.cookie });
  assert.equal(r.status, 200);
  const cleared = r.headers.getSetCookie();
  assert.ok(cleared.some((c) => /^sid=;/.test(c) && /Max-Age=0/.test(c)), cleared.join('\n'));
  assert.ok(cleared.some((c) => /^__csrf=;/.test(c) && /Max-Age=0/.test(c)), cleared.join('\n'));
  assert.equal(await current(s), 401);
  // An unsafe call with the dead session and its token is anonymous now: 401, nothing created.
  const p = await api(s, 'POST', '/projects', { body: { project_name: 'after-logout' } });
  assert.equal(p.status, 401, p.text);
  // Logging out twice, or without a session, is harmless.
  assert.equal((await http(f.berth.url, 'GET', '/c/log_out', { cookie: s.cookie })).status, 200);
  assert.equal((await http(f.berth.url, 'GET', '/c/log_out')).status, 200);
});

test('login rotates the id: the session cookie sent with a new login is ended', async () => {
  const first = await login('admin', f.berth.adminPassword);
  const second = await login('admin', f.berth.adminPassword, { cookie: first.cookie });
  assert.notEqual(second.sid, first.sid);
  assert.equal(await current(first), 401);
  assert.equal(await current(second), 'admin');
  // A failed login with a session cookie also ends that session.
  const r = await http(f.berth.url, 'POST', '/c/login', { form: { principal: 'admin', password: 'nope' }, cookie: second.cookie });
  assert.equal(r.status, 401);
  assert.equal(await current(second), 401);
});

test('a password change ends the user’s sessions; deleting the user ends them too', async () => {
  const id = await f.admin.createUser('pam', PW);
  const s = await login('pam', PW);
  assert.equal(await current(s), 'pam');
  expectApi(await f.admin.call('PUT', `/users/${id}/password`, { new_password: 'Changed-Passw0rd' }), 200);
  assert.equal(await current(s), 401);
  const s2 = await login('pam', 'Changed-Passw0rd');
  assert.equal(await current(s2), 'pam');
  expectApi(await f.admin.call('DELETE', `/users/${id}`), 200);
  assert.equal(await current(s2), 401);
  // A new user with the same name does not inherit the old session.
  await f.admin.createUser('pam', PW);
  assert.equal(await current(s2), 401);
});

test('the store holds only SHA-256 of the id; idle timeout and absolute lifetime end sessions', async () => {
  const s = await login('admin', f.berth.adminPassword);
  const db = await openBerthDatabase(f.berth);
  try {
    assert.equal((await db.all('SELECT id_hash FROM sessions WHERE id_hash = ?', [s.sid])).length, 0);
    const h = createHash('sha256').update(s.sid).digest('hex');
    assert.equal((await db.all('SELECT id_hash FROM sessions WHERE id_hash = ?', [h])).length, 1);
    // idle: last use an hour and a second ago (default idle timeout 3600 s)
    await db.run('UPDATE sessions SET last_seen = ? WHERE id_hash = ?', [Date.now() - 3601_000, h]);
    assert.equal(await current(s), 401);
    assert.equal((await db.all('SELECT id_hash FROM sessions WHERE id_hash = ?', [h])).length, 0);
    // absolute lifetime, however recent the last use
    const t = await login('admin', f.berth.adminPassword);
    const th = createHash('sha256').update(t.sid).digest('hex');
    assert.equal(await current(t), 'admin');
    await db.run('UPDATE sessions SET expires_at = ? WHERE id_hash = ?', [Date.now() - 1, th]);
    assert.equal(await current(t), 401);
  } finally {
    await db.close();
  }
  // Malformed or forged cookies are anonymous.
  for (const cookie of ['sid=abc', `sid=${'A'.repeat(43)}`, 'sid=', `sid=${s.sid}x`])
    assert.equal((await http(f.berth.url, 'GET', '/api/v2.0/users/current', { cookie })).status, 401, cookie);
});

test('a session opened on one process works on a second process of the same deployment', async () => {
  const b = await startBerth({ dataDir: f.berth.dataDir, pgDatabase: f.berth.pgDatabase ?? undefined, env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '3' } });
  try {
    const s = await login('admin', f.berth.adminPassword);
    assert.equal(await current(s, b.url), 'admin');
    // The CSRF token from process A is valid on B.
    const r = await api(s, 'POST', '/projects', { base: b.url, body: { project_name: 'two-procs', metadata: { public: 'false' } } });
    assert.equal(r.status, 201, r.text);
    assert.equal((await api(s, 'POST', '/projects', { base: b.url, csrf: null, body: { project_name: 'two-procs-2' } })).status, 403);
    // Logout on B ends it on A.
    assert.equal((await http(b.url, 'GET', '/c/log_out', { cookie: s.cookie })).status, 200);
    assert.equal(await current(s), 401);
    // Login on B, use on A.
    const t = await login('admin', f.berth.adminPassword, { base: b.url });
    assert.equal(await current(t), 'admin');
  } finally {
    const out = b.output();
    await b.stop({ keepData: true });
    assert.doesNotMatch(out, /request failed|"level":50|"level":60/, out.slice(-4000));
  }
});

test('a session carries the current sysadmin state: the flag, or admin through the LDAP group admin DN (admin_role_in_auth)', async () => {
  const id = await f.admin.createUser('sal', PW);
  const s = await login('sal', PW);
  assert.equal((await api(s, 'GET', '/users')).status, 403);
  const db = await openBerthDatabase(f.berth);
  try {
    await db.run('UPDATE users SET admin_role_in_auth = 1 WHERE id = ?', [id]);
    assert.equal((await api(s, 'GET', '/users')).status, 200);
    await db.run('UPDATE users SET admin_role_in_auth = 0 WHERE id = ?', [id]);
  } finally {
    await db.close();
  }
  assert.equal((await api(s, 'GET', '/users')).status, 403);
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true }), 200);
  assert.equal((await api(s, 'GET', '/users')).status, 200);
});
