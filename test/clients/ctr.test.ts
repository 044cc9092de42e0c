// containerd's ctr against a real Berth: `ctr images push/pull --plain-http --user admin:PW`. With --user, ctr
// gets its token by POST /service/token (the OAuth2 password grant) rather than GET + Basic.
// The pulled content is compared byte for byte with what was imported and what Berth serves.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import type { Berth } from '../helpers/berth.ts';
import { buildOciImage, makeTempDir, maybeGunzip, readLayoutBlob, removeDir, runOk, startContainerd, untar } from '../helpers/clients.ts';
import type { Containerd } from '../helpers/clients.ts';
import { assertSameFiles, berthBlob, berthManifest, berthTarget, startRecordingProxy, assertNoBerthErrors } from './lib.ts';
import type { RecordingProxy } from './lib.ts';

describe('ctr (containerd) against Berth', { timeout: 180_000 }, () => {
  let berth: Berth;
  let ctrd: Containerd;
  let work: string;
  let userFlags: string[];
  let proxy: RecordingProxy;

  before(async () => {
    work = makeTempDir('ctr');
    [berth, ctrd] = await Promise.all([startBerth(), startContainerd()]);
    userFlags = ctrd.registryFlags(berthTarget(berth));
    assert.deepEqual(userFlags, ['--plain-http', '--user', `admin:${berth.adminPassword}`]);
    proxy = await startRecordingProxy(berth);
  });

  after(async () => {
    await ctrd?.stop();
    await proxy?.close();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth); // no 5xx, no error logged, by any client's request
  });

  test('import, push --user (password grant), rm, pull --user: same digest and bytes', async () => {
    const img = await buildOciImage(join(work, 'img'), { tag: 'latest' });
    const archive = join(work, 'img.tar');
    await runOk('tar', ['-C', img.layout, '-cf', archive, '.']);
    // through the recording proxy, to see which token endpoint ctr uses
    const name = `${proxy.host}/library/ctr-img`;
    await ctrd.ctr(['images', 'import', '--base-name', name, archive]);
    const ref = `${name}:latest`;

    const anon = await ctrd.ctr(['images', 'push', '--plain-http', ref], { allowFail: true });
    assert.notEqual(anon.code, 0, 'anonymous push is refused');
    const wrong = await ctrd.ctr(['images', 'push', '--plain-http', '--user', 'admin:not-the-password', ref], { allowFail: true });
    assert.notEqual(wrong.code, 0, 'push with a wrong password is refused');

    proxy.requests.length = 0;
    await ctrd.ctr(['images', 'push', ...userFlags, ref]);
    const tokenCalls = proxy.requests.filter((r) => r.url.startsWith('/service/token'));
    assert.ok(tokenCalls.length > 0, 'ctr asked for a token');
    for (const c of tokenCalls) {
      assert.equal(c.method, 'POST', `ctr --user uses the OAuth2 password grant: ${JSON.stringify(c)}`);
      assert.equal(c.status, 200);
      assert.match(c.contentType, /application\/x-www-form-urlencoded/);
    }
    assert.ok(!proxy.requests.some((r) => r.status >= 500), JSON.stringify(proxy.requests));
    const m = await berthManifest(berth, 'library/ctr-img', 'latest');
    assert.equal(m.digest, img.manifestDigest);
    assert.ok(m.body.equals(img.manifest), 'Berth holds the exact manifest bytes');
    const layerDigest = m.json.layers[0].digest as string;
    const original = await readLayoutBlob(img.layout, layerDigest);
    assert.ok((await berthBlob(berth, 'library/ctr-img', layerDigest)).equals(original));
    assert.ok((await berthBlob(berth, 'library/ctr-img', m.json.config.digest)).equals(await readLayoutBlob(img.layout, m.json.config.digest)));

    // forget everything locally (image and content), then pull it back
    await ctrd.ctr(['images', 'rm', '--sync', ref]);
    const gone = await ctrd.ctr(['content', 'get', layerDigest], { allowFail: true });
    assert.notEqual(gone.code, 0, 'the layer was garbage-collected locally');

    proxy.requests.length = 0;
    await ctrd.ctr(['images', 'pull', ...userFlags, ref]);
    assert.ok(proxy.requests.some((r) => r.method === 'POST' && r.url.startsWith('/service/token') && r.status === 200));
    assert.ok(!proxy.requests.some((r) => r.method === 'GET' && r.url.startsWith('/service/token')), 'no fallback to GET');
    const ls = (await ctrd.ctr(['images', 'ls'])).stdout;
    assert.ok(ls.split('\n').some((l) => l.startsWith(ref) && l.includes(img.manifestDigest)), ls);
    assert.ok((await ctrd.ctr(['content', 'get', img.manifestDigest])).stdoutBytes.equals(img.manifest));
    const layer = (await ctrd.ctr(['content', 'get', layerDigest])).stdoutBytes;
    assert.ok(layer.equals(original), 'pulled layer is byte-identical');
    assertSameFiles(untar(maybeGunzip(layer)), img.files, 'ctr pull');
  });

  test('anonymous pull of the public library image; retag + push to a new repo (cross-repo)', async () => {
    const img = await buildOciImage(join(work, 'img2'), { tag: 'latest' });
    const archive = join(work, 'img2.tar');
    await runOk('tar', ['-C', img.layout, '-cf', archive, '.']);
    const name = `${berth.host}/library/ctr-anon`;
    await ctrd.ctr(['images', 'import', '--base-name', name, archive]);
    await ctrd.ctr(['images', 'push', ...userFlags, `${name}:latest`]);
    await ctrd.ctr(['images', 'rm', '--sync', `${name}:latest`]);

    // anonymous: token by GET /service/token without credentials, pull scope only
    await ctrd.ctr(['images', 'pull', '--plain-http', `${name}:latest`]);
    const layerDigest = JSON.parse(img.manifest.toString()).layers[0].digest as string;
    assert.ok((await ctrd.ctr(['content', 'get', layerDigest])).stdoutBytes.equals(await readLayoutBlob(img.layout, layerDigest)));

    await ctrd.ctr(['images', 'tag', `${name}:latest`, `${berth.host}/library/ctr-copy:v2`]);
    await ctrd.ctr(['images', 'push', ...userFlags, `${berth.host}/library/ctr-copy:v2`]);
    const m = await berthManifest(berth, 'library/ctr-copy', 'v2');
    assert.equal(m.digest, img.manifestDigest);
    assert.ok((await berthBlob(berth, 'library/ctr-copy', layerDigest)).equals(await readLayoutBlob(img.layout, layerDigest)));
  });
});
