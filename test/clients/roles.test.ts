// Roles through real clients (podman + skopeo, token auth): a developer logs in and pushes to a private project,
// a guest pulls but cannot push, anonymous pulls a public image but not a private one. Bytes are compared.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { buildOciImage, createContainersEnv, makeTempDir, removeDir, type ContainersEnv, type OciLayoutImage } from '../helpers/clients.ts';
import { assertNoBerthErrors, berthManifest } from './lib.ts';

const PW = 'Roles-Passw0rd';

describe('project roles through podman and skopeo', { timeout: 240_000 }, () => {
  let berth: Berth;
  let cenv: ContainersEnv;
  let work: string;
  let img: OciLayoutImage;
  const tls = ['--tls-verify=false'];
  const dest = ['--dest-tls-verify=false'];
  const src = ['--src-tls-verify=false'];

  before(async () => {
    work = makeTempDir('roles');
    berth = await startBerth();
    const api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await api.createProject('team', false);
    await api.createProject('pubteam', true);
    await api.createUser('dev', PW);
    await api.createUser('visitor', PW);
    await api.addMember('team', 'dev', 2);
    await api.addMember('team', 'visitor', 3);
    cenv = await createContainersEnv({ insecureRegistries: [berth.host] });
    img = await buildOciImage(join(work, 'src'), { tag: 'v1' });
  });

  after(async () => {
    await cenv?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth);
  });

  test('developer: podman login, then push into the private project', async () => {
    const login = await cenv.podman(['login', ...tls, '--username', 'dev', '--password-stdin', berth.host], { input: PW });
    assert.match(login.stdout, /Login Succeeded/);
    await cenv.skopeo(['copy', ...dest, img.ref, `docker://${berth.host}/team/app:v1`]);
    const m = await berthManifest(berth, 'team/app', 'v1');
    assert.equal(m.digest, img.manifestDigest);
    await cenv.podman(['logout', berth.host]);
  });

  test('guest: pulls the private image byte-identical, but cannot push', async () => {
    const out = join(work, 'guest-pull');
    await cenv.skopeo(['copy', ...src, '--src-creds', `visitor:${PW}`, `docker://${berth.host}/team/app:v1`, `oci:${out}:v1`]);
    const pulled = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')).manifests[0].digest;
    assert.equal(pulled, img.manifestDigest);
    const push = await cenv.skopeo(['copy', ...dest, '--dest-creds', `visitor:${PW}`, img.ref, `docker://${berth.host}/team/app:guest`], { allowFail: true });
    assert.notEqual(push.code, 0, 'a guest must not push');
    assert.match(push.stderr, /denied|unauthorized|authentication required/i);
  });

  test('anonymous: pulls from a public project, not from a private one', async () => {
    await cenv.skopeo(['copy', ...dest, '--dest-creds', `admin:${berth.adminPassword}`, img.ref, `docker://${berth.host}/pubteam/app:v1`]);
    const out = join(work, 'anon-pull');
    await cenv.skopeo(['copy', ...src, '--src-no-creds', `docker://${berth.host}/pubteam/app:v1`, `oci:${out}:v1`]);
    const priv = await cenv.skopeo(['copy', ...src, '--src-no-creds', `docker://${berth.host}/team/app:v1`, `oci:${out}:priv`], { allowFail: true });
    assert.notEqual(priv.code, 0, 'anonymous must not pull a private image');
    assert.match(priv.stderr, /unauthorized|authentication required|denied/i);
    const push = await cenv.skopeo(['copy', ...dest, '--dest-no-creds', img.ref, `docker://${berth.host}/pubteam/app:anon`], { allowFail: true });
    assert.notEqual(push.code, 0, 'anonymous must not push, even to a public project');
  });
});
