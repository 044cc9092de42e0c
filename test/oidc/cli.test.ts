// The CLI secret with real clients: an OIDC user (onboarded through the real provider) logs in with podman and
// docker using username + CLI secret, pushes with skopeo into a project they reach through an OIDC group, pulls
// with podman and skopeo (bytes compared); a wrong or regenerated-away secret is refused by the clients.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { buildOciImage, createContainersEnv, makeTempDir, readLayoutManifest, removeDir, run, type ContainersEnv } from '../helpers/clients.ts';
import { HttpBrowser, oidcLogin, startProvider, type TestProvider, oidcSettings } from '../helpers/oidc.ts';
import { assertNoBerthErrors } from '../clients/lib.ts';

describe('docker / podman / skopeo with an OIDC CLI secret', { timeout: 300_000 }, () => {
  let berth: Berth;
  let provider: TestProvider;
  let cenv: ContainersEnv;
  let work: string;
  let admin: ApiClient;
  let secret = '';
  let userId = 0;
  let browser: HttpBrowser;

  before(async () => {
    work = makeTempDir('oidc-cli');
    // The provider listens on loopback: the outbound guard refuses it unless allow-listed.
    berth = await startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
    admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
    provider = await startProvider(berth.url, { 'frank-sub': { name: 'frank', email: 'frank@example.com', groups: ['builders'] } });
    const r = await admin.call('PUT', '/configurations', {
      auth_mode: 'oidc_auth',
      ...oidcSettings(provider),
      oidc_auto_onboard: true,
      oidc_extra_redirect_parms: '{"prompt":"consent"}',
    });
    assert.equal(r.status, 200, r.text);
    const project = await admin.createProject('oidc-cli', false);
    const m = await admin.call('POST', `/projects/${project}/members`, { role_id: 2, member_group: { group_name: 'builders', group_type: 3 } });
    assert.equal(m.status, 201, m.text);
    browser = new HttpBrowser();
    const { callback } = await oidcLogin(browser, berth.url, 'frank-sub');
    assert.equal(callback.status, 302);
    const me = (await (await browser.request('GET', `${berth.url}/api/v2.0/users/current`)).json()) as { user_id: number; oidc_user_meta: { secret: string } };
    secret = me.oidc_user_meta.secret;
    userId = me.user_id;
    cenv = await createContainersEnv({ insecureRegistries: [berth.host] });
  });

  after(async () => {
    await cenv?.stop();
    await provider?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth);
  });

  test('podman login with the CLI secret, skopeo push, podman and skopeo pull: same bytes', async () => {
    const target = { host: berth.host, creds: { username: 'frank', password: 'Wrong-secret-1' }, plainHttp: true };
    const bad = await cenv.login(target).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
    assert.notEqual(bad.code, 0, 'a wrong secret is refused');
    const ok = await cenv.login({ ...target, creds: { username: 'frank', password: secret } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout + ok.stderr, /Login Succeeded/);

    const img = await buildOciImage(join(work, 'src'), { tag: 'v1' });
    const ref = `docker://${berth.host}/oidc-cli/app:v1`;
    const push = await cenv.skopeo(['copy', '--dest-tls-verify=false', img.ref, ref]);
    assert.equal(push.code, 0, push.stderr);
    const back = join(work, 'back');
    const pull = await cenv.skopeo(['copy', '--src-tls-verify=false', ref, `oci:${back}:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal((await readLayoutManifest(back, 'v1')).digest, img.manifestDigest, 'the manifest came back byte for byte');
    const podmanPull = await cenv.podman(['pull', '--tls-verify=false', `${berth.host}/oidc-cli/app:v1`]);
    assert.equal(podmanPull.code, 0, podmanPull.stderr);
    const digest = await cenv.podman(['image', 'inspect', '--format', '{{.Digest}}', `${berth.host}/oidc-cli/app:v1`]);
    assert.equal(digest.stdout.trim(), img.manifestDigest);
  });

  test('after the secret is regenerated the old one no longer logs in; the new one does', async () => {
    const csrf = browser.cookie(new URL(berth.url).host, '__csrf')!;
    const put = await browser.request('PUT', `${berth.url}/api/v2.0/users/${userId}/cli_secret`, JSON.stringify({ secret: '' }), {
      'content-type': 'application/json',
      'x-harbor-csrf-token': csrf,
    });
    assert.equal(put.status, 200);
    const me = (await (await browser.request('GET', `${berth.url}/api/v2.0/users/current`)).json()) as { oidc_user_meta: { secret: string } };
    assert.notEqual(me.oidc_user_meta.secret, secret);
    const old = await cenv.podman(['login', '--tls-verify=false', '--username', 'frank', '--password-stdin', berth.host], { input: secret, allowFail: true });
    assert.notEqual(old.code, 0, 'the old secret is refused');
    secret = me.oidc_user_meta.secret;
    const ok = await cenv.podman(['login', '--tls-verify=false', '--username', 'frank', '--password-stdin', berth.host], { input: secret });
    assert.equal(ok.code, 0, ok.stderr);
  });

  const CLI28 = '/usr/local/bin/docker';
  test('docker login (CLI without an engine) with the CLI secret', { skip: !existsSync(CLI28) && 'no /usr/local/bin/docker' }, async () => {
    const cfg = join(work, 'docker');
    await mkdir(cfg, { recursive: true });
    const env = { DOCKER_CONFIG: cfg, DOCKER_HOST: `unix://${join(work, 'no-engine.sock')}` };
    const bad = await run(CLI28, ['login', '-u', 'frank', '--password-stdin', berth.host], { env, input: 'Wrong-secret-1' });
    assert.notEqual(bad.code, 0, bad.stdout);
    const ok = await run(CLI28, ['login', '-u', 'frank', '--password-stdin', berth.host], { env, input: secret });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
  });
});
