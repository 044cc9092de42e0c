// Robot accounts through real clients (podman + skopeo, token auth): a pull-only robot logs in and pulls a
// private image byte-identical but cannot push; a push+pull robot pushes; a disabled robot cannot log in.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { buildOciImage, createContainersEnv, makeTempDir, removeDir, type ContainersEnv, type OciLayoutImage } from '../helpers/clients.ts';
import { assertNoBerthErrors, berthManifest, berthManifestStatus } from './lib.ts';

describe('robot accounts through podman and skopeo', { timeout: 240_000 }, () => {
  let berth: Berth;
  let api: ApiClient;
  let cenv: ContainersEnv;
  let work: string;
  let img: OciLayoutImage;
  let puller: { id: number; name: string; secret: string };
  let pusher: { id: number; name: string; secret: string };
  const tls = ['--tls-verify=false'];
  const dest = ['--dest-tls-verify=false'];
  const src = ['--src-tls-verify=false'];

  const robot = async (name: string, actions: string[]) => {
    const r = await api.call('POST', '/robots', {
      name,
      level: 'project',
      duration: -1,
      permissions: [{ kind: 'project', namespace: 'secret', access: actions.map((action) => ({ resource: 'repository', action })) }],
    });
    assert.equal(r.status, 201, r.text);
    return r.json();
  };

  before(async () => {
    work = makeTempDir('robots');
    berth = await startBerth();
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await api.createProject('secret', false);
    puller = await robot('puller', ['pull']);
    pusher = await robot('pusher', ['pull', 'push']);
    cenv = await createContainersEnv({ insecureRegistries: [berth.host] });
    img = await buildOciImage(join(work, 'src'), { tag: 'v1' });
    await cenv.skopeo(['copy', ...dest, '--dest-creds', `admin:${berth.adminPassword}`, img.ref, `docker://${berth.host}/secret/app:v1`]);
  });

  after(async () => {
    await cenv?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth);
  });

  test('pull-only robot: podman login succeeds, pulls byte-identical, push is refused', async () => {
    const login = await cenv.podman(['login', ...tls, '--username', puller.name, '--password-stdin', berth.host], { input: puller.secret });
    assert.match(login.stdout, /Login Succeeded/);
    await cenv.podman(['logout', berth.host]);
    const out = join(work, 'robot-pull');
    await cenv.skopeo(['copy', ...src, '--src-creds', `${puller.name}:${puller.secret}`, `docker://${berth.host}/secret/app:v1`, `oci:${out}:v1`]);
    const pulled = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')).manifests[0].digest;
    assert.equal(pulled, img.manifestDigest);
    const push = await cenv.skopeo(['copy', ...dest, '--dest-creds', `${puller.name}:${puller.secret}`, img.ref, `docker://${berth.host}/secret/app:robot`], { allowFail: true });
    assert.notEqual(push.code, 0, 'a pull-only robot must not push');
    assert.match(push.stderr, /denied|unauthorized|authentication required/i);
    assert.equal(await berthManifestStatus(berth, 'secret/app', 'robot'), 404);
  });

  test('push+pull robot pushes; a wrong secret and a disabled robot cannot log in', async () => {
    await cenv.skopeo(['copy', ...dest, '--dest-creds', `${pusher.name}:${pusher.secret}`, img.ref, `docker://${berth.host}/secret/app:by-robot`]);
    assert.equal((await berthManifest(berth, 'secret/app', 'by-robot')).digest, img.manifestDigest);
    const wrong = await cenv.podman(['login', ...tls, '--username', pusher.name, '--password-stdin', berth.host], { input: 'Wrong-Secret1', allowFail: true });
    assert.notEqual(wrong.code, 0);
    assert.equal((await api.call('PUT', `/robots/${pusher.id}`, { disable: true })).status, 200);
    const disabled = await cenv.podman(['login', ...tls, '--username', pusher.name, '--password-stdin', berth.host], { input: pusher.secret, allowFail: true });
    assert.notEqual(disabled.code, 0, 'a disabled robot must not log in');
    assert.match(disabled.stderr, /unauthorized|authentication required|invalid/i);
  });
});
