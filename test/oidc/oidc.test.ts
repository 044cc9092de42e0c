// OIDC single sign-on against a real provider (oidc-provider on loopback): the auth_mode switch rule, ping, login
// with auto-onboarding and with the onboarding form, groups claim → OIDC user groups and project membership, the
// admin group, the CLI secret on /v2, /service/token and the API (and nowhere else), PUT cli_secret, the refresh of
// an expired token on a CLI login, and every broken-provider case answered with a clear error and no session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { HttpBrowser, oidcLogin, startBrokenProvider, startProvider, type TestProvider, oidcSettings } from '../helpers/oidc.ts';
import { openDatabase } from '../../src/db/open.ts';

let berth: Berth;
let admin: ApiClient;
let provider: TestProvider;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  // The provider listens on loopback: the outbound guard refuses it unless allow-listed.
  berth = await startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
  admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
  provider = await startProvider(berth.url, {
    'alice-sub': { name: 'Alice Liddell', preferred_username: 'alice', email: 'alice@example.com', groups: ['devs', 'berth-admins'] },
    'bob-sub': { name: 'Bob Builder', email: 'bob@example.com', groups: ['devs', 'ops team'] },
    'carol-sub': { name: 'carol', email: 'carol@example.com', groups: 'qa' as unknown as string[] },
  });
});
after(async () => {
  await provider?.stop();
  await berth?.stop();
});

const basic = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
const errorOf = (text: string): { code: string; message: string } => JSON.parse(text).errors[0];
async function configure(values: Record<string, unknown>): Promise<void> {
  const r = await admin.call('PUT', '/configurations', values);
  assert.equal(r.status, 200, r.text);
}
/** GET /users/current with the browser's session cookie. */
async function current(b: HttpBrowser): Promise<{ status: number; body: any }> {
  const r = await b.request('GET', `${berth.url}/api/v2.0/users/current`);
  const text = await r.text();
  return { status: r.status, body: r.status === 200 ? JSON.parse(text) : text };
}

test('auth_mode oidc_auth is refused while a user other than admin exists, allowed once there is none', async () => {
  const id = await admin.createUser('localcarol');
  const refused = await admin.call('PUT', '/configurations', { auth_mode: 'oidc_auth' });
  assert.equal(refused.status, 403, refused.text);
  assert.match(errorOf(refused.text).message, /auth mode cannot be modified/);
  assert.equal((await admin.call('GET', '/configurations')).json().auth_mode.editable, false);
  assert.equal((await admin.call('DELETE', `/users/${id}`)).status, 200);
  await configure({ auth_mode: 'oidc_auth' });
  assert.equal((await admin.call('GET', '/configurations')).json().auth_mode.value, 'oidc_auth');
  // Harbor: no local accounts in oidc_auth
  assert.equal((await admin.call('POST', '/users', { username: 'x1', password: 'Passw0rd!x', email: 'x1@example.com', realname: 'x' })).status, 403);
});

test('POST /system/oidc/ping: a provider answers; down, wrong issuer, no URL → 400; sysadmins only', async () => {
  assert.equal((await admin.call('POST', '/system/oidc/ping', { url: provider.issuer, verify_cert: true })).status, 200);
  const down = await admin.call('POST', '/system/oidc/ping', { url: 'http://127.0.0.1:1', verify_cert: true });
  assert.equal(down.status, 400, down.text);
  assert.match(errorOf(down.text).message, /failed to verify connection/);
  const broken = await startBrokenProvider('wrong-issuer');
  try {
    const wrong = await admin.call('POST', '/system/oidc/ping', { url: broken.issuer });
    assert.equal(wrong.status, 400, wrong.text);
    assert.match(errorOf(wrong.text).message, /issuer/i);
  } finally {
    await broken.stop();
  }
  assert.equal((await admin.call('POST', '/system/oidc/ping', { verify_cert: true })).status, 400);
  assert.equal((await admin.call('POST', '/system/oidc/ping', { url: 'ftp://x' })).status, 400);
  assert.equal((await admin.as(null).call('POST', '/system/oidc/ping', { url: provider.issuer })).status, 401);
});

test('the OIDC settings: stored, the client secret never returned and sealed at rest; systeminfo names the provider', async () => {
  await configure({
    ...oidcSettings(provider),
    oidc_admin_group: 'berth-admins',
    oidc_user_claim: 'preferred_username',
    oidc_verify_cert: true,
    oidc_auto_onboard: true,
    // oidc-provider grants offline_access (a refresh token) only with a consent prompt; Harbor's way to ask for it.
    oidc_extra_redirect_parms: '{"prompt":"consent"}',
  });
  const got = await admin.call('GET', '/configurations');
  assert.ok(!got.text.includes(provider.clientSecret), 'the client secret is never returned');
  assert.equal(got.json().oidc_client_secret, undefined);
  assert.equal(got.json().oidc_endpoint.value, provider.issuer);
  const bad = await admin.call('PUT', '/configurations', { oidc_group_filter: '(' });
  assert.equal(bad.status, 400, bad.text);
  const bad2 = await admin.call('PUT', '/configurations', { oidc_extra_redirect_parms: '[1]' });
  assert.equal(bad2.status, 400, bad2.text);
  const info = (await admin.as(null).call('GET', '/systeminfo')).json();
  assert.equal(info.auth_mode, 'oidc_auth');
  assert.equal(info.oidc_provider_name, 'TestIdP');
  // At rest: the configurations table holds ciphertext.
  const db = await openDatabase({ type: berth.database, sqlitePath: join(berth.dataDir, 'berth.db'), postgresUrl: berth.pgUrl ?? '', postgresMaxConnections: 2 });
  try {
    const all = JSON.stringify(await db.all('SELECT key, value FROM configurations'));
    assert.ok(all.includes('oidc_client_secret'), 'the key is stored');
    assert.ok(!all.includes(provider.clientSecret), 'the client secret is sealed in the database');
  } finally {
    await db.close();
  }
});

test('auto-onboarding: the provider login makes a session, the user, its OIDC groups and sysadmin through the admin group', async () => {
  const b = new HttpBrowser();
  const { callback, location } = await oidcLogin(b, berth.url, 'alice-sub', '/harbor/projects');
  assert.equal(callback.status, 302, await callback.text());
  assert.equal(location, '/harbor/projects', 'back to the local redirect_url');
  const me = await current(b);
  assert.equal(me.status, 200, String(me.body));
  assert.equal(me.body.username, 'alice', 'the username comes from oidc_user_claim');
  assert.equal(me.body.email, 'alice@example.com');
  assert.equal(me.body.admin_role_in_auth, true, 'member of oidc_admin_group');
  assert.match(me.body.oidc_user_meta.secret, /^[A-Za-z0-9]{32}$/, 'a CLI secret was generated at onboarding');
  assert.equal(me.body.oidc_user_meta.subiss, `alice-sub${provider.issuer}`);
  // sysadmin: may read the user list
  const users = await b.request('GET', `${berth.url}/api/v2.0/users`);
  assert.equal(users.status, 200);
  const groups = (await admin.call('GET', '/usergroups?page_size=100')).json() as { group_name: string; group_type: number }[];
  assert.deepEqual(groups.filter((g) => g.group_type === 3).map((g) => g.group_name).sort(), ['berth-admins', 'devs']);
  // Admin reading alice's profile does not get her CLI secret.
  const asAdmin = (await admin.call('GET', `/users/${me.body.user_id}`)).json();
  assert.equal(asAdmin.oidc_user_meta.secret, undefined);
  // A second login is the same user (found by sub + issuer).
  const again = new HttpBrowser();
  await oidcLogin(again, berth.url, 'alice-sub');
  assert.equal((await current(again)).body.user_id, me.body.user_id);
});

let bobId = 0;
let bobSecret = '';

test('onboarding with the username form when oidc_auto_onboard is off; membership through an OIDC group', async () => {
  await configure({ oidc_auto_onboard: false });
  const project = await admin.createProject('oidc-devs', false);
  const m = await admin.call('POST', `/projects/${project}/members`, { role_id: 2, member_group: { group_name: 'devs', group_type: 3 } });
  assert.equal(m.status, 201, m.text);
  const b = new HttpBrowser();
  const { callback, location } = await oidcLogin(b, berth.url, 'bob-sub');
  assert.equal(callback.status, 302);
  const to = new URL(location, berth.url);
  assert.equal(to.pathname, '/oidc-onboard');
  assert.equal(to.searchParams.get('username'), 'Bob_Builder', "the name claim, blanks replaced as Harbor does");
  assert.equal((await current(b)).status, 401, 'no session before the onboarding');
  const post = (username: unknown) => b.request('POST', `${berth.url}/c/oidc/onboard`, JSON.stringify({ username }), { 'content-type': 'application/json' });
  const bad = await post('bob:x');
  assert.equal(bad.status, 400, 'illegal characters');
  const taken = await post('alice');
  assert.equal(taken.status, 409, await taken.text());
  const ok = await post('bobby');
  assert.equal(ok.status, 200, await ok.text());
  const me = await current(b);
  assert.equal(me.body.username, 'bobby');
  assert.equal(me.body.admin_role_in_auth, false);
  bobId = me.body.user_id;
  bobSecret = me.body.oidc_user_meta.secret;
  // The pending onboarding was used once.
  assert.equal((await post('bobby2')).status, 400);
  const projects = (await (await b.request('GET', `${berth.url}/api/v2.0/projects?name=oidc-devs`)).json()) as { name: string }[];
  assert.deepEqual(projects.map((p) => p.name), ['oidc-devs'], 'the private project is visible through the devs group');
  const groups = (await admin.call('GET', '/usergroups?page_size=100')).json() as { group_name: string; group_type: number }[];
  assert.ok(groups.some((g) => g.group_name === 'ops team' && g.group_type === 3));
});

test('the CLI secret: /v2, /service/token and the CLI API paths accept it; the portal login and other API paths do not', async () => {
  const v2 = await fetch(`${berth.url}/v2/`, { headers: basic('bobby', bobSecret) });
  assert.equal(v2.status, 200);
  const tok = await fetch(`${berth.url}/service/token?service=harbor-registry&scope=repository:oidc-devs/app:pull,push`, { headers: basic('bobby', bobSecret) });
  assert.equal(tok.status, 200);
  const jwt = ((await tok.json()) as { token: string }).token;
  const access = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).access;
  assert.deepEqual(access[0].actions.sort(), ['pull', 'push'], 'developer through the devs group');
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: basic('bobby', bobSecret + 'x') })).status, 401);
  assert.equal((await admin.as('bobby', bobSecret).call('GET', '/projects')).status, 200);
  assert.equal((await admin.as('bobby', bobSecret).call('GET', '/users/current')).status, 401, 'not a CLI path (Harbor oidc_cli)');
  const portal = await fetch(`${berth.url}/c/login`, { method: 'POST', body: new URLSearchParams({ principal: 'bobby', password: bobSecret }) });
  assert.equal(portal.status, 401, 'a CLI secret is no portal password');
  // admin still logs in locally in oidc_auth
  const adminLogin = await fetch(`${berth.url}/c/login`, { method: 'POST', body: new URLSearchParams({ principal: 'admin', password: berth.adminPassword }) });
  assert.equal(adminLogin.status, 200);
});

test('PUT /users/{id}/cli_secret: Harbor’s complexity rule, self or sysadmin, the old secret stops working', async () => {
  const bob = admin.as('bobby', bobSecret);
  const weak = await bob.call('PUT', `/users/${bobId}/cli_secret`, { secret: 'short' });
  // The CLI secret authenticates only CLI paths: changing it needs the portal session (or an admin).
  assert.equal(weak.status, 401);
  const b = new HttpBrowser();
  await oidcLogin(b, berth.url, 'bob-sub');
  const csrf = b.cookie(new URL(berth.url).host, '__csrf')!;
  const put = (id: number, body: unknown) =>
    b.request('PUT', `${berth.url}/api/v2.0/users/${id}/cli_secret`, JSON.stringify(body), { 'content-type': 'application/json', 'x-harbor-csrf-token': csrf });
  const w = await put(bobId, { secret: 'alllowercase1' });
  assert.equal(w.status, 400);
  assert.match(errorOf(await w.text()).message, /8-128/);
  assert.equal((await put(bobId, { secret: 'NewBobSecret42' })).status, 200);
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: basic('bobby', bobSecret) })).status, 401, 'the old secret is gone');
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: basic('bobby', 'NewBobSecret42') })).status, 200);
  const aliceId = (await admin.call('GET', '/users?q=username%3Dalice')).json()[0].user_id;
  assert.equal((await put(aliceId, { secret: 'StolenSecret42' })).status, 403, "not someone else's");
  // An admin sets it; an empty secret generates one.
  assert.equal((await admin.call('PUT', `/users/${bobId}/cli_secret`, { secret: '' })).status, 200);
  const generated = (await current(b)).body.oidc_user_meta.secret;
  assert.match(generated, /^[A-Za-z0-9]{32}$/);
  assert.notEqual(generated, 'NewBobSecret42');
  bobSecret = generated;
  assert.equal((await admin.call('PUT', `/users/1/cli_secret`, { secret: 'AdminSecret42' })).status, 400, 'admin is no OIDC user');
  const pw = await admin.call('PUT', `/users/${bobId}/password`, { new_password: 'LocalPassw0rd' });
  assert.equal(pw.status, 403, 'no local password for an OIDC user');
});

test("Harbor's idtoken: an ID token of the provider as a bearer token on /api/v2.0; a forged or foreign one is anonymous", async () => {
  // The test is its own relying party here: the same client, its own PKCE, stopping before Berth's callback.
  const b = new HttpBrowser();
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(`${provider.issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: provider.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: `${berth.url}/c/oidc/callback`,
    state: 'st',
    nonce: 'nn',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const isCallback = (u: URL) => u.pathname === '/c/oidc/callback';
  let step = await b.follow(auth.href, isCallback);
  for (let i = 0; i < 4 && !isCallback(new URL(step.url)); i++) {
    const html = await step.response.text();
    step = await b.submit(step.url, html, html.includes('name="login"') ? { login: 'alice-sub', password: 'x' } : {}, isCallback);
  }
  const code = new URL(step.url).searchParams.get('code')!;
  const tok = await fetch(`${provider.issuer}/token`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${provider.clientId}:${provider.clientSecret}`).toString('base64') },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${berth.url}/c/oidc/callback`, code_verifier: verifier }),
  });
  assert.equal(tok.status, 200);
  const idToken = ((await tok.json()) as { id_token: string }).id_token;
  const me = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { authorization: `Bearer ${idToken}` } });
  assert.equal(me.status, 200, await me.clone().text());
  assert.equal(((await me.json()) as { username: string }).username, 'alice');
  const [h, p] = idToken.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'bob-sub' })).toString('base64url')}.${idToken.split('.')[2]}`;
  assert.equal((await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { authorization: `Bearer ${forged}` } })).status, 401, 'a changed payload fails the signature');
  assert.equal((await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { authorization: 'Bearer not.a.token' } })).status, 401);
});

test('an expired access token is refreshed on a CLI login; a user whose refresh fails loses CLI access', async () => {
  provider.setAccessTtl(2);
  await configure({ oidc_auto_onboard: true });
  const c2 = new HttpBrowser();
  await oidcLogin(c2, berth.url, 'carol-sub');
  const me = await current(c2);
  assert.equal(me.body.username, 'carol');
  const groups = (await admin.call('GET', '/usergroups?page_size=100')).json() as { group_name: string }[];
  assert.ok(groups.some((g) => g.group_name === 'qa'), 'a groups claim given as one string');
  await sleep(2500);
  const refreshed = await fetch(`${berth.url}/v2/`, { headers: basic("carol", me.body.oidc_user_meta.secret) });
  assert.equal(refreshed.status, 200, `refreshed: ${berth.output().slice(-3000)}`);
  // The provider forgets carol: her refresh token no longer works.
  provider.accounts.delete('carol-sub');
  assert.equal((await admin.call('PUT', `/users/${me.body.user_id}/cli_secret`, { secret: 'CarolSecret42' })).status, 200);
  await sleep(2500);
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: basic('carol', 'CarolSecret42') })).status, 401, 'refresh refused → no CLI access');
  provider.setAccessTtl(3600);
});

test('broken logins: state mismatch, no cookie, provider errors, bad signature, wrong nonce, wrong issuer, provider down → clear errors, no session', async () => {
  // state mismatch / no cookie
  const b = new HttpBrowser();
  const start = await b.request('GET', `${berth.url}/c/oidc/login`);
  assert.equal(start.status, 302);
  const mismatch = await b.request('GET', `${berth.url}/c/oidc/callback?code=x&state=wrong`);
  assert.equal(mismatch.status, 400);
  assert.match(errorOf(await mismatch.text()).message, /State mismatch/);
  const none = await fetch(`${berth.url}/c/oidc/callback?code=x&state=y`);
  assert.equal(none.status, 400);
  assert.match(errorOf(await none.text()).message, /cookie/);
  // not a local redirect
  const offsite = await fetch(`${berth.url}/c/oidc/login?redirect_url=${encodeURIComponent('//evil.example.com/')}`, { redirect: 'manual' });
  assert.equal(offsite.status, 400);

  const broken = await startBrokenProvider('bad-signature');
  try {
    await configure({ oidc_endpoint: broken.issuer });
    const cases: [Parameters<typeof broken.setMode>[0], number, RegExp][] = [
      ['bad-signature', 400, /signature/i],
      ['wrong-nonce', 400, /nonce/i],
      ['error', 400, /access_denied - the user said no/],
    ];
    for (const [mode, status, message] of cases) {
      broken.setMode(mode);
      const hb = new HttpBrowser();
      const r = await hb.follow(`${berth.url}/c/oidc/login`, (u) => u.pathname === '/c/oidc/callback');
      const cb = await hb.request('GET', r.url);
      const text = await cb.text();
      assert.equal(cb.status, status, `${mode}: ${text}`);
      assert.match(errorOf(text).message, message, mode);
      assert.equal(hb.cookie(new URL(berth.url).host, 'sid'), undefined, `${mode}: no session`);
    }
    broken.setMode('wrong-issuer');
    await configure({ oidc_client_id: 'berth2' }); // a new client: the discovery is not taken from the cache
    const wi = await fetch(`${berth.url}/c/oidc/login`, { redirect: 'manual' });
    assert.equal(wi.status, 500);
    assert.match(errorOf(await wi.text()).message, /cannot be used.*issuer/i);
  } finally {
    await broken.stop();
  }
  await configure({ oidc_endpoint: 'http://127.0.0.1:1', oidc_client_id: provider.clientId });
  const down = await fetch(`${berth.url}/c/oidc/login`, { redirect: 'manual' });
  assert.equal(down.status, 500);
  assert.match(errorOf(await down.text()).message, /OIDC provider at http:\/\/127\.0\.0\.1:1 cannot be used/);
  // The client secret never shows up in the server's output.
  assert.ok(!berth.output().includes(provider.clientSecret));
  await configure({ oidc_endpoint: provider.issuer });
});

test('outside oidc_auth the OIDC endpoints answer 412', async () => {
  // A second Berth in db_auth (the first cannot switch back: users exist).
  const other = await startBerth();
  try {
    const r = await fetch(`${other.url}/c/oidc/login`, { redirect: 'manual' });
    assert.equal(r.status, 412);
    const otherAdmin = new ApiClient(other.url, 'admin', other.adminPassword);
    const cli = await otherAdmin.call('PUT', '/users/1/cli_secret', { secret: 'Abcdefgh1' });
    assert.equal(cli.status, 412);
    // Without security.outbound_allowlist the provider's loopback address is refused by the outbound guard.
    const ping = await otherAdmin.call('POST', '/system/oidc/ping', { url: provider.issuer, verify_cert: true });
    assert.equal(ping.status, 400);
    assert.match(ping.json().errors[0].message, /127\.0\.0\.1 is not allowed/);
  } finally {
    await other.stop();
  }
});
