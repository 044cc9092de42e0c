// auth.token_grant: Harbor answers a scope with every action the caller holds ('all', the default, for compatibility);
// 'requested' grants only the actions asked for, so a token obtained for a pull cannot push or delete.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';

const started: Berth[] = [];
after(async () => {
  for (const b of started) await b.stop();
});

const grantOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { access: { name: string; actions: string[] }[] }).access;

for (const [mode, expected] of [
  ['all', ['delete', 'pull', 'push']],
  ['requested', ['pull']],
] as const) {
  test(`auth.token_grant=${mode}: a pull scope is answered with ${expected.join(',')}`, async () => {
    const b = await startBerth({ env: mode === 'all' ? {} : { BERTH_AUTH_TOKEN_GRANT: mode } });
    started.push(b);
    const admin = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
    await admin.pushImage('library/grant', 'v1');
    const token = await admin.token(['repository:library/grant:pull']);
    assert.deepEqual([...grantOf(token)[0]!.actions].sort(), expected);
    const push = await admin.request('POST', '/v2/library/grant/blobs/uploads/', { auth: false, headers: { authorization: `Bearer ${token}` } });
    assert.equal(push.status, mode === 'all' ? 202 : 401, String(push));
    // Asking for push as well still gets it in both modes.
    const both = await admin.token(['repository:library/grant:pull,push']);
    assert.deepEqual([...grantOf(both)[0]!.actions].sort(), mode === 'all' ? ['delete', 'pull', 'push'] : ['pull', 'push']);
  });
}
