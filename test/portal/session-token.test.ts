// GET /service/token with the portal's session cookie (no Authorization header): the portal reads manifests
// (layers) this way, as Harbor's UI does. The session's user gets their own access; no cookie or an ended
// session is anonymous; bad Basic credentials still win over a cookie (401).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';

const PW = 'Session-Passw0rd';

async function login(berth: Berth, user: string, password: string): Promise<string> {
  const r = await fetch(`${berth.url}/c/login`, { method: 'POST', body: new URLSearchParams({ principal: user, password }) });
  assert.equal(r.status, 200);
  const sid = r.headers.getSetCookie().find((c) => c.startsWith('sid='));
  assert.ok(sid);
  return sid.split(';')[0];
}

async function access(berth: Berth, scope: string, headers: Record<string, string>) {
  const r = await fetch(`${berth.url}/service/token?scope=${encodeURIComponent(scope)}`, { headers });
  if (r.status !== 200) return { status: r.status, actions: [] as string[] };
  const { token } = (await r.json()) as { token: string };
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { access: { actions: string[] }[] };
  return { status: 200, actions: claims.access.flatMap((a) => a.actions).sort() };
}

describe('token service with the portal session', { timeout: 120_000 }, () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
    const api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await api.createProject('secret', false);
    await api.createUser('dev', PW);
    await api.createUser('outsider', PW);
    await api.addMember('secret', 'dev', 2);
  });
  after(async () => berth?.stop());

  test("a member's session gets their access; an outsider's and no cookie get none", async () => {
    const scope = 'repository:secret/app:pull,push';
    const dev = await login(berth, 'dev', PW);
    assert.deepEqual(await access(berth, scope, { cookie: dev }), { status: 200, actions: ['pull', 'push'] });
    const outsider = await login(berth, 'outsider', PW);
    assert.deepEqual(await access(berth, scope, { cookie: outsider }), { status: 200, actions: [] });
    assert.deepEqual(await access(berth, scope, {}), { status: 200, actions: [] });
    assert.deepEqual(await access(berth, scope, { cookie: 'sid=forged-not-a-session' }), { status: 200, actions: [] });
    // Basic credentials take precedence over the cookie; wrong ones are a 401.
    const bad = await access(berth, scope, { cookie: dev, authorization: 'Basic ' + Buffer.from('dev:wrong').toString('base64') });
    assert.equal(bad.status, 401);
  });

  test('an ended session is anonymous', async () => {
    const dev = await login(berth, 'dev', PW);
    // (the token lists every action the user holds on the repository, as Harbor's does)
    assert.deepEqual((await access(berth, 'repository:secret/app:pull', { cookie: dev })).actions, ['pull', 'push']);
    const out = await fetch(`${berth.url}/c/log_out`, { headers: { cookie: dev } });
    assert.equal(out.status, 200);
    assert.deepEqual((await access(berth, 'repository:secret/app:pull', { cookie: dev })).actions, []);
  });
});
