// Login lockout (per username, on /service/token, Basic on /v2 and the API) and self-registration.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { expectApi } from './fixture.ts';

const PW = 'Passw0rd!x';
const started: Berth[] = [];
after(async () => {
  for (const b of started) await b.stop();
});

test('5 failed logins lock the username for the lockout duration, whatever the password; other users are unaffected', async () => {
  // The product default threshold (5), with a short duration so the test can wait it out.
  const b = await startBerth({ env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '5', BERTH_AUTH_LOCKOUT_DURATION: '3' } });
  started.push(b);
  const admin = new ApiClient(b.url, 'admin', b.adminPassword);
  await admin.createUser('victim', PW);
  await admin.createUser('bystander', PW);
  const good = new RegistryClient({ baseUrl: b.url, username: 'victim', password: PW });
  const bad = good.with({ password: 'Wr0ngPassword' });
  // four failures, then a success: the series resets
  for (let i = 0; i < 4; i++) assert.equal((await bad.tokenResponse(['repository:library/x:pull'])).status, 401);
  assert.equal((await good.tokenResponse(['repository:library/x:pull'])).status, 200);
  // five failures in a row, mixing /service/token, Basic on /v2 and the API
  for (let i = 0; i < 3; i++) assert.equal((await bad.tokenResponse(['repository:library/x:pull'])).status, 401);
  assert.equal((await bad.with({ auth: 'basic' }).request('GET', '/v2/')).status, 401);
  expectApi(await admin.as('victim', 'Wr0ngPassword').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  const lockedAt = Date.now();
  // now even the right password is refused everywhere
  assert.equal((await good.tokenResponse(['repository:library/x:pull'])).status, 401);
  assert.equal((await good.tokenPasswordGrant(['repository:library/x:pull'])).status, 401);
  assert.equal((await good.with({ auth: 'basic' }).request('GET', '/v2/')).status, 401);
  expectApi(await admin.as('victim', PW).call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  // another user is not locked
  expectApi(await admin.as('bystander', PW).call('GET', '/users/current'), 200);
  // after the window the right password works again
  await new Promise((r) => setTimeout(r, Math.max(0, lockedAt + 3300 - Date.now())));
  assert.equal((await good.tokenResponse(['repository:library/x:pull'])).status, 200);
  expectApi(await admin.as('victim', PW).call('GET', '/users/current'), 200);
});

test('two processes on one deployment share the lockout: failures on either count, the lock holds on both', async () => {
  const env = { BERTH_AUTH_LOCKOUT_THRESHOLD: '4', BERTH_AUTH_LOCKOUT_DURATION: '3' };
  const a = await startBerth({ env });
  const b = await startBerth({ env, dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined });
  try {
    const adminA = new ApiClient(a.url, 'admin', a.adminPassword);
    await adminA.createUser('shared-victim', PW);
    await adminA.createUser('shared-bystander', PW);
    const onA = adminA.as('shared-victim', PW);
    const onB = new ApiClient(b.url, 'shared-victim', PW);
    // A success on B ends nothing yet; then failures alternate between the processes: 4 in all lock the name.
    expectApi(await onB.call('GET', '/users/current'), 200);
    for (let i = 0; i < 4; i++) expectApi(await (i % 2 ? onB : onA).as('shared-victim', 'Wr0ngPassword').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    const lockedAt = Date.now();
    // Each process alone saw only two failures; still, both refuse the right password now (A never logged in
    // with it, so it asks the shared store; B recorded the last failure, so its own mirror of the series is
    // locked too and even its cached login is refused. A process that had neither would accept a login cached
    // in the last minute: the documented limit).
    expectApi(await onA.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    const viaToken = new RegistryClient({ baseUrl: a.url, username: 'shared-victim', password: PW });
    assert.equal((await viaToken.tokenResponse(['repository:library/x:pull'])).status, 401);
    expectApi(await new ApiClient(b.url, 'shared-victim', PW).call('GET', '/users/current?fresh=1'), 401, 'UNAUTHORIZED');
    // A different name is untouched, and the lock ends on both after the window.
    expectApi(await new ApiClient(b.url, 'shared-bystander', PW).call('GET', '/users/current'), 200);
    await new Promise((r) => setTimeout(r, Math.max(0, lockedAt + 3300 - Date.now())));
    expectApi(await onA.call('GET', '/users/current'), 200);
    expectApi(await onB.call('GET', '/users/current'), 200);
    // The success ended the series: three more failures do not lock (the threshold is 4).
    for (let i = 0; i < 3; i++) expectApi(await onA.as('shared-victim', 'Wr0ngPassword').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    expectApi(await new ApiClient(b.url, 'shared-victim', PW).call('GET', '/users/current'), 200);
  } finally {
    await b.stop({ keepData: true });
    await a.stop();
  }
});

test('self-registration on: anonymous may create a plain user; admin fields are ignored (CVE-2019-16097)', async () => {
  const b = await startBerth({ env: { BERTH_AUTH_SELF_REGISTRATION: 'true' } });
  started.push(b);
  const anon = new ApiClient(b.url);
  const r = await anon.call('POST', '/users', {
    username: 'selfie',
    password: PW,
    email: 'selfie@example.com',
    sysadmin_flag: true,
    has_admin_role: true,
    role_id: 1,
  });
  expectApi(r, 201);
  const me = (await anon.as('selfie', PW).call('GET', '/users/current')).json();
  assert.equal(me.sysadmin_flag, false);
  expectApi(await anon.as('selfie', PW).call('GET', '/users'), 403, 'FORBIDDEN');
  // the password policy and uniqueness still hold
  expectApi(await anon.call('POST', '/users', { username: 'weak', password: 'weak', email: 'w@example.com' }), 400, 'BAD_REQUEST');
  expectApi(await anon.call('POST', '/users', { username: 'selfie', password: PW, email: 'x@example.com' }), 409, 'CONFLICT');
  assert.doesNotMatch(b.output(), /request failed|"level":50/);
});

test('config: unknown values for the new keys are refused at start', async () => {
  await assert.rejects(startBerth({ database: 'sqlite', env: { BERTH_AUTH_SELF_REGISTRATION: 'maybe' } }), /auth\.self_registration/);
  await assert.rejects(startBerth({ database: 'sqlite', env: { BERTH_PROJECT_CREATION_RESTRICTION: 'nobody' } }), /project\.creation_restriction/);
});

test('login timing does not tell whether a username exists: an unknown name costs a password hash too', async () => {
  const b = await startBerth({ env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '0' } });
  started.push(b);
  const admin = new ApiClient(b.url, 'admin', b.adminPassword);
  await admin.createUser('timed-user', PW);
  const time = async (username: string) => {
    const c = new RegistryClient({ baseUrl: b.url, username, password: 'Wr0ngPassword', auth: 'basic' });
    const t0 = process.hrtime.bigint();
    assert.equal((await c.request('GET', '/v2/')).status, 401);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const known: number[] = [];
  const unknown: number[] = [];
  // Interleaved, so load on the machine affects both series alike; medians, so one slow request does not decide.
  for (let i = 0; i < 21; i++) {
    known.push(await time('timed-user'));
    unknown.push(await time(`no-such-user-${i}`));
    unknown.push(await time('robot$nobody+none'));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ratio = median(unknown) / median(known);
  // Without the dummy hash an unknown name answered ~15× faster (2–3 ms against 29–45 ms).
  assert.ok(ratio > 0.6 && ratio < 1.7, `known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
});

test('a lockout holds for the name from the address that failed: a guesser elsewhere cannot lock the admin out', async () => {
  const b = await startBerth({ env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '5', BERTH_AUTH_LOCKOUT_DURATION: '60' } });
  started.push(b);
  const { request } = await import('node:http');
  // Basic on GET /v2/ from a chosen loopback address.
  const v2 = (from: string, password: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: b.port, path: '/v2/', localAddress: from, headers: { authorization: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64') } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end();
    });
  for (let i = 0; i < 5; i++) assert.equal(await v2('127.0.0.2', 'Wr0ngPassword'), 401);
  // Locked from the guesser's address, even with the right password…
  assert.equal(await v2('127.0.0.2', b.adminPassword), 401);
  // …but the admin elsewhere is not locked out (Basic, the token service and the API alike).
  assert.equal(await v2('127.0.0.1', b.adminPassword), 200);
  const admin = new ApiClient(b.url, 'admin', b.adminPassword);
  expectApi(await admin.call('GET', '/users/current'), 200);
  const reg = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  assert.equal((await reg.tokenResponse(['repository:library/x:pull'])).status, 200);
});
