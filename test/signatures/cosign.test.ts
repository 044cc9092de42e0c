// Signatures with the real cosign (v2.6.5, .tools/bin) against a started Berth, and oras for a generic referrer:
// cosign signs with generated key pairs in both modes (tag `sha256-<hex>.sig` and OCI 1.1 referrers), `cosign
// verify --key` passes against Berth, Berth shows each signature as an accessory of its subject and never as an
// artifact; under `enable_content_trust_cosign` an unsigned image is refused (412 PROJECTPOLICYVIOLATION, Harbor's
// message) while signed ones pull with crane and skopeo and signing still works; with trusted keys registered a
// signature by another key, or one whose payload names another digest, is refused; deleting a subject removes its
// accessories and quota and GC figures stay exact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../helpers/api-client.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { createContainersEnv, createGoClients, makeTempDir, removeDir, run, runOk, sha256, toolPath, type ContainersEnv, type GoClients, type RunResult } from '../helpers/clients.ts';
import { tar } from '../helpers/tar.ts';
import { assertNoBerthErrors, basicAuth, berthTarget } from '../clients/lib.ts';

const PASSWORD = 'cosign-test-password';

describe('cosign signatures, content trust and trusted keys against Berth', { timeout: 600_000 }, () => {
  let berth: Berth;
  let go: GoClients;
  let cenv: ContainersEnv;
  let work: string;
  let admin: ApiClient;
  let H: string;
  let keyA: string; // dir with cosign.key / cosign.pub
  let keyB: string;
  const img: Record<string, string> = {}; // name -> digest in signed/app

  const cosign = (args: string[], opts: { allowFail?: boolean; env?: Record<string, string> } = {}): Promise<RunResult> =>
    (opts.allowFail ? run : runOk)(toolPath('cosign'), args, {
      env: { ...go.env, COSIGN_PASSWORD: PASSWORD, COSIGN_EXPERIMENTAL: '1', COSIGN_YES: 'true', ...opts.env },
      cwd: work,
      timeoutMs: 120_000,
    });
  const sign = (dir: string, ref: string, mode: 'legacy' | 'oci-1-1' = 'legacy') =>
    cosign(['sign', '--key', join(dir, 'cosign.key'), '--tlog-upload=false', '--allow-http-registry', `--registry-referrers-mode=${mode}`, '-y', ref]);
  const verify = (dir: string, ref: string, oci11 = false) =>
    cosign(['verify', '--key', join(dir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-http-registry', ...(oci11 ? ['--experimental-oci11'] : []), ref], { allowFail: true });

  /** A one-layer image of random content pushed with crane; returns its digest. */
  async function push(repo: string, tag: string): Promise<string> {
    const layer = join(work, `layer-${randomBytes(4).toString('hex')}.tar`);
    await writeFile(layer, tar([{ path: `data/${tag}.bin`, body: randomBytes(2048) }]));
    await go.crane(['append', '--insecure', '-f', layer, '-t', `${H}/${repo}:${tag}`]);
    return (await go.crane(['digest', '--insecure', `${H}/${repo}:${tag}`])).stdout.trim();
  }
  const v2 = (path: string, init: RequestInit = {}) =>
    fetch(`${berth.url}/v2/${path}`, { ...init, headers: { ...basicAuth(berth), Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json', ...(init.headers as Record<string, string>) } });
  const setMeta = async (project: string, key: string, value: string) => {
    const r = await admin.call('PUT', `/projects/${project}/metadatas/${key}`, { [key]: value });
    assert.equal(r.status, 200, r.text);
  };
  const addKey = async (project: string, name: string, dir: string, as = admin) =>
    as.call('POST', `/projects/${project}/trusted-keys`, { name, kind: 'cosign', pem: await readFile(join(dir, 'cosign.pub'), 'utf8') });
  /** The /v2 answer to a manifest GET: status and, for errors, the first error. */
  async function pull(repo: string, ref: string): Promise<{ status: number; code?: string; message?: string }> {
    const r = await v2(`${repo}/manifests/${ref}`);
    const body = await r.text();
    if (r.status === 200) return { status: 200 };
    const e = JSON.parse(body).errors?.[0] ?? {};
    return { status: r.status, code: e.code, message: e.message };
  }

  before(async () => {
    work = makeTempDir('cosign-t');
    [berth, go] = await Promise.all([startBerth({ env: { BERTH_REGISTRY_GC_GRACE: '0' } }), createGoClients()]);
    H = berth.host;
    admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await go.configure(berthTarget(berth)); // crane/oras logins; cosign reads the same $DOCKER_CONFIG
    cenv = await createContainersEnv({ insecureRegistries: [H] });
    keyA = join(work, 'key-a');
    keyB = join(work, 'key-b');
    for (const d of [keyA, keyB]) {
      await mkdir(d, { recursive: true });
      await runOk(toolPath('cosign'), ['generate-key-pair'], { cwd: d, env: { ...go.env, COSIGN_PASSWORD: PASSWORD } });
    }
    await admin.createProject('signed', false);
    for (const t of ['tagmode', 'ocimode', 'unsigned', 'bykeyb', 'forged', 'later']) img[t] = await push('signed/app', t);
  });

  after(async () => {
    await cenv?.stop();
    await go?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth);
  });

  test('cosign signs in tag mode and in OCI 1.1 referrers mode; cosign verify --key passes against Berth', async () => {
    await sign(keyA, `${H}/signed/app@${img.tagmode}`, 'legacy');
    await sign(keyA, `${H}/signed/app@${img.ocimode}`, 'oci-1-1');
    // tag mode: the signature is the manifest tagged sha256-<hex>.sig; OCI 1.1: a referrer of the subject, no tag
    const tags = JSON.parse(await (await v2('signed/app/tags/list')).text()).tags as string[];
    assert.ok(tags.includes(`sha256-${img.tagmode.slice(7)}.sig`), tags.join(' '));
    assert.ok(!tags.includes(`sha256-${img.ocimode.slice(7)}.sig`), 'oci-1-1 mode pushes no .sig tag');
    const refs = JSON.parse(await (await v2(`signed/app/referrers/${img.ocimode}`)).text());
    assert.equal(refs.manifests.length, 1);
    assert.equal(refs.manifests[0].artifactType, 'application/vnd.dev.cosign.artifact.sig.v1+json');
    const a = await verify(keyA, `${H}/signed/app@${img.tagmode}`);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, new RegExp(`"docker-manifest-digest":"${img.tagmode}"`));
    const b = await verify(keyA, `${H}/signed/app@${img.ocimode}`, true);
    assert.equal(b.code, 0, b.stderr);
    // the other key does not verify them (cosign's own check, as a control for Berth's)
    const wrong = await verify(keyB, `${H}/signed/app@${img.tagmode}`);
    assert.notEqual(wrong.code, 0);
  });

  test('Berth shows the signatures under their subjects (accessories, with_signature), never as artifacts of their own', async () => {
    const list = await admin.call('GET', '/projects/signed/repositories/app/artifacts?with_accessory=true&page_size=50');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.headers.get('x-total-count'), '6', 'six images, no signature counted');
    const items = list.json() as { digest: string; accessories: { type: string; digest: string; subject_artifact_digest: string }[] | null }[];
    assert.deepEqual(items.map((i) => i.digest).sort(), Object.values(img).sort());
    for (const t of ['tagmode', 'ocimode']) {
      const a = items.find((i) => i.digest === img[t])!;
      assert.equal(a.accessories?.length, 1, t);
      assert.equal(a.accessories![0].type, 'signature.cosign');
      assert.equal(a.accessories![0].subject_artifact_digest, img[t]);
      const acc = await admin.call('GET', `/projects/signed/repositories/app/artifacts/${img[t]}/accessories`);
      assert.equal(acc.status, 200);
      assert.equal(acc.headers.get('x-total-count'), '1');
      assert.equal(acc.json()[0].digest, a.accessories![0].digest);
      const filtered = await admin.call('GET', `/projects/signed/repositories/app/artifacts/${img[t]}/accessories?q=type%3Dsignature.notation`);
      assert.deepEqual(filtered.json(), []);
    }
    assert.equal(items.find((i) => i.digest === img.unsigned)!.accessories, null);
    const repo = (await admin.call('GET', '/projects/signed/repositories/app')).json();
    assert.equal(repo.artifact_count, 6);
    // with_signature alone adds the signature accessories (what the portal's "signed" mark reads)
    const got = (await admin.call('GET', `/projects/signed/repositories/app/artifacts/${img.tagmode}?with_signature=true`)).json();
    assert.deepEqual(got.accessories.map((x: { type: string }) => x.type), ['signature.cosign']);
    const plain = (await admin.call('GET', `/projects/signed/repositories/app/artifacts/${img.tagmode}`)).json();
    assert.equal(plain.accessories, null);
  });

  test('enable_content_trust_cosign: the unsigned image is refused (412, Harbor\'s message); signed ones pull with crane and skopeo; HEAD and referrers stay open', async () => {
    await setMeta('signed', 'enable_content_trust_cosign', 'true');
    assert.deepEqual(await pull('signed/app', 'unsigned'), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by cosign.' });
    assert.deepEqual(await pull('signed/app', img.unsigned), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by cosign.' });
    const refused = await go.crane(['manifest', '--insecure', `${H}/signed/app:unsigned`], { allowFail: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /PROJECTPOLICYVIOLATION: The image is not signed by cosign\./);
    // HEAD answers (no content leaves), the referrers API too
    const head = await v2('signed/app/manifests/unsigned', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), img.unsigned);
    assert.equal((await v2(`signed/app/referrers/${img.unsigned}`)).status, 200);
    // signed images pull, in both modes, with real clients
    for (const t of ['tagmode', 'ocimode']) {
      assert.deepEqual(await pull('signed/app', t), { status: 200 });
      const out = join(work, `pulled-${t}`);
      await go.crane(['pull', '--insecure', '--format=oci', `${H}/signed/app:${t}`, out]);
    }
    const layout = join(work, 'skopeo-out');
    await cenv.skopeo(['copy', '--src-tls-verify=false', '--src-creds', `${berth.adminUser}:${berth.adminPassword}`, `docker://${H}/signed/app:ocimode`, `oci:${layout}:x`]);
    const idx = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    assert.equal(idx.manifests.length, 1);
    // the signatures themselves stay pullable, and cosign verify still works under the policy
    const sigTag = `sha256-${img.tagmode.slice(7)}.sig`;
    assert.deepEqual(await pull('signed/app', sigTag), { status: 200 });
    assert.equal((await verify(keyA, `${H}/signed/app:tagmode`)).code, 0);
    assert.equal((await verify(keyA, `${H}/signed/app:ocimode`, true)).code, 0);
    // the signing tool reads the unsigned manifest it signs (Harbor's exemption), then the image pulls
    await sign(keyA, `${H}/signed/app:later`);
    assert.deepEqual(await pull('signed/app', 'later'), { status: 200 });
    // another client claiming to be cosign without push rights gets no exemption
    await admin.createUser('ct-guest', 'Passw0rd!x');
    const gm = await admin.call('POST', '/projects/signed/members', { role_id: 3, member_user: { username: 'ct-guest' } });
    assert.equal(gm.status, 201, gm.text);
    const asGuest = await fetch(`${berth.url}/v2/signed/app/manifests/unsigned`, {
      headers: { Authorization: 'Basic ' + Buffer.from('ct-guest:Passw0rd!x').toString('base64'), 'User-Agent': 'cosign/v2.6.5', Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(asGuest.status, 412);
    // notation's policy: the cosign signature is not a notation one (Harbor's message)
    await setMeta('signed', 'enable_content_trust', 'true');
    assert.deepEqual(await pull('signed/app', 'tagmode'), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by notation.' });
    await setMeta('signed', 'enable_content_trust', 'false');
    assert.deepEqual(await pull('signed/app', 'tagmode'), { status: 200 });
  });

  test('trusted keys: project admins register them; bad PEM 400; a signature by an unregistered key or naming another digest is refused', async () => {
    // who may: members read, only project admins (and system admins) write
    await admin.createUser('ct-dev', 'Passw0rd!x');
    assert.equal((await admin.call('POST', '/projects/signed/members', { role_id: 2, member_user: { username: 'ct-dev' } })).status, 201);
    const dev = admin.as('ct-dev', 'Passw0rd!x');
    const denied = await addKey('signed', 'dev-key', keyA, dev);
    assert.equal(denied.status, 403);
    assert.equal(denied.errorCode(), 'FORBIDDEN');
    assert.equal((await admin.as(null).call('GET', '/projects/signed/trusted-keys')).status, 401);
    // bad input: Harbor's envelope
    for (const [body, why] of [
      [{ name: 'x', kind: 'cosign', pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, /not a valid public key/],
      [{ name: 'x', kind: 'cosign', pem: await readFile(join(keyA, 'cosign.key'), 'utf8') }, /private key/],
      [{ name: 'x', kind: 'cosign', pem: 'hello' }, /PUBLIC KEY/],
      [{ name: 'x', kind: 'gpg', pem: 'hello' }, /./],
      [{ name: '', kind: 'cosign', pem: 'hello' }, /name/],
      [{ name: 'x', kind: 'notation', pem: await readFile(join(keyA, 'cosign.pub'), 'utf8') }, /CERTIFICATE/],
    ] as const) {
      const r = await admin.call('POST', '/projects/signed/trusted-keys', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.errorCode(), 'BAD_REQUEST');
      assert.match(r.json().errors[0].message, why);
      assert.ok(!r.text.includes('ENCRYPTED'), 'a refused key is never echoed');
    }
    // image "bykeyb" is signed by key B only; before keys are registered any cosign signature passes (Harbor)
    await sign(keyB, `${H}/signed/app@${img.bykeyb}`);
    assert.deepEqual(await pull('signed/app', 'bykeyb'), { status: 200 });
    const created = await addKey('signed', 'release', keyA);
    assert.equal(created.status, 201, created.text);
    const loc = created.headers.get('location')!;
    assert.match(loc, /^\/api\/v2\.0\/projects\/signed\/trusted-keys\/\d+$/);
    assert.equal((await addKey('signed', 'release', keyA)).status, 409, 'same name twice');
    assert.equal((await addKey('signed', 'again', keyA)).status, 409, 'same key twice');
    const keys = (await dev.call('GET', '/projects/signed/trusted-keys')).json();
    assert.equal(keys.length, 1);
    assert.equal(keys[0].name, 'release');
    assert.equal(keys[0].kind, 'cosign');
    assert.match(keys[0].fingerprint, /^sha256:[0-9a-f]{64}$/);
    assert.match(keys[0].pem, /^-----BEGIN PUBLIC KEY-----/);
    // now a pull passes only with a signature key A verifies
    for (const t of ['tagmode', 'ocimode', 'later']) assert.deepEqual(await pull('signed/app', t), { status: 200 }, t);
    const byB = await pull('signed/app', 'bykeyb');
    assert.equal(byB.status, 412);
    assert.equal(byB.code, 'PROJECTPOLICYVIOLATION');
    assert.match(byB.message!, /not signed by cosign with a trusted key: the signature does not verify with any trusted cosign key/);
    // key B signs "later" as well: key A's signature still lets it through (any signature layer may verify)
    await sign(keyB, `${H}/signed/app:later`);
    assert.deepEqual(await pull('signed/app', 'later'), { status: 200 });
    // a forged accessory: key A's genuine signature of "tagmode", put under the .sig tag of "forged"
    const sigOfTagmode = Buffer.from(await (await v2(`signed/app/manifests/sha256-${img.tagmode.slice(7)}.sig`)).arrayBuffer());
    const put = await v2(`signed/app/manifests/sha256-${img.forged.slice(7)}.sig`, { method: 'PUT', body: sigOfTagmode, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.status, 201, await put.text());
    const forged = await pull('signed/app', 'forged');
    assert.equal(forged.status, 412);
    assert.match(forged.message!, new RegExp(`the signature payload names ${img.tagmode}, not ${img.forged}`));
    // cosign agrees: the forged signature does not verify
    assert.notEqual((await verify(keyA, `${H}/signed/app@${img.forged}`)).code, 0);
    // the key goes: Harbor's rule again (any signature)
    const del = await admin.call('DELETE', loc.replace('/api/v2.0', ''));
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(await pull('signed/app', 'bykeyb'), { status: 200 });
    assert.equal((await admin.call('DELETE', loc.replace('/api/v2.0', ''))).status, 404);
    // audit: both changes, with the fingerprint, never the PEM
    const logs = (await admin.call('GET', '/audit-logs?page_size=100&q=resource_type%3Dtrusted_key')).json() as { operation: string; resource: string }[];
    assert.deepEqual(logs.map((l) => `${l.operation} ${l.resource}`).sort(), ['create signed:release', 'delete signed:release']);
    await setMeta('signed', 'enable_content_trust_cosign', 'false');
  });

  test('oras attach: a generic referrer is an accessory; deleting the subject removes every accessory; quota and GC figures exact', async () => {
    await admin.createProject('acc', false);
    const pid = (await admin.call('GET', '/projects/acc')).json().project_id as number;
    const used = async () => (await admin.call('GET', `/quotas/${pid}`)).json().used.storage as number;
    const subject = await push('acc/app', 'v1');
    await sign(keyA, `${H}/acc/app@${subject}`, 'legacy');
    await sign(keyA, `${H}/acc/app@${subject}`, 'oci-1-1');
    const note = join(work, 'note.txt');
    await writeFile(note, `review ${randomBytes(8).toString('hex')}\n`);
    await go.oras(['attach', '--plain-http', '--artifact-type', 'application/vnd.example.review+json', `${H}/acc/app@${subject}`, `note.txt:text/plain`], { cwd: work });
    const acc = (await admin.call('GET', `/projects/acc/repositories/app/artifacts/${subject}/accessories`)).json() as { type: string; digest: string }[];
    assert.deepEqual(acc.map((a) => a.type).sort(), ['signature.cosign', 'signature.cosign', 'subject.accessory']);
    const list = await admin.call('GET', '/projects/acc/repositories/app/artifacts');
    assert.equal(list.headers.get('x-total-count'), '1');
    // the accessory list's filters and sort (Harbor's q on the accessory's columns)
    const accPath = `/projects/acc/repositories/app/artifacts/${subject}/accessories`;
    const q = async (query: string) => (await admin.call('GET', `${accPath}?${query}`)).json() as { type: string; digest: string; size: number }[];
    assert.deepEqual((await q('q=type%3Dsubject.accessory')).map((a) => a.type), ['subject.accessory']);
    assert.equal((await q('q=type%3D~signature')).length, 2);
    assert.equal((await q(`q=digest%3D${acc[0].digest}`)).length, 1);
    const bySize = (await q('sort=-size')).map((a) => a.size);
    assert.deepEqual(bySize, [...bySize].sort((x, y) => y - x));
    assert.equal((await q('q=nope%3D1')).length, acc.length, 'an unknown key is ignored (Harbor)');
    // the quota counts every blob once and every manifest: recomputed from what Berth serves
    const manifests = [subject, ...acc.map((a) => a.digest)];
    const blobs = new Map<string, number>();
    let manifestBytes = 0;
    for (const d of manifests) {
      const body = Buffer.from(await (await v2(`acc/app/manifests/${d}`)).arrayBuffer());
      assert.equal(sha256(body), d);
      manifestBytes += body.length;
      const m = JSON.parse(body.toString('utf8'));
      for (const b of [m.config, ...(m.layers ?? [])]) if (b) blobs.set(b.digest, b.size);
    }
    const expected = manifestBytes + [...blobs.values()].reduce((a, b) => a + b, 0);
    assert.equal(await used(), expected);
    // GC keeps them while the subject lives (the OCI 1.1 signature and the oras referrer are untagged)
    // (elsewhere it collects the one-layer .sig manifest cosign replaced when key B signed "later" a second time)
    await runGc();
    for (const d of manifests) assert.equal((await v2(`acc/app/manifests/${d}`)).status, 200, d);
    assert.equal((await admin.call('GET', `/projects/acc/repositories/app/artifacts/${subject}/accessories`)).headers.get('x-total-count'), '3');
    assert.equal(await used(), expected);
    // deleting the subject deletes its accessories
    const del = await admin.call('DELETE', `/projects/acc/repositories/app/artifacts/${subject}`);
    assert.equal(del.status, 200, del.text);
    for (const d of manifests) assert.equal((await v2(`acc/app/manifests/${d}`)).status, 404, d);
    assert.deepEqual(JSON.parse(await (await v2('acc/app/tags/list')).text()).tags ?? [], []);
    assert.equal(JSON.parse(await (await v2(`acc/app/referrers/${subject}`)).text()).manifests.length, 0);
    // then GC frees exactly their blobs and the project's usage is back to zero
    const gc2 = await runGc();
    assert.equal(gc2.purged_blobs, blobs.size, JSON.stringify(gc2));
    assert.equal(await used(), 0);
  });

  test('/v2 DELETE of a subject by digest removes its accessories too (as Harbor\'s artifact controller)', async () => {
    const d = await push('acc/del', 'v1');
    await sign(keyA, `${H}/acc/del@${d}`, 'legacy');
    await sign(keyA, `${H}/acc/del@${d}`, 'oci-1-1');
    const acc = (await admin.call('GET', `/projects/acc/repositories/del/artifacts/${d}/accessories`)).json() as { digest: string }[];
    assert.equal(acc.length, 2);
    assert.equal((await v2(`acc/del/manifests/${d}`, { method: 'DELETE' })).status, 202);
    for (const a of acc) assert.equal((await v2(`acc/del/manifests/${a.digest}`)).status, 404);
    assert.deepEqual(JSON.parse(await (await v2('acc/del/tags/list')).text()).tags ?? [], []);
  });

  test('a signed multi-arch index: under the policy its platform manifests pull by digest (inherited); an unsigned index\'s do not', async () => {
    await admin.createProject('multi', false);
    const [c1, c2, c3] = [await push('multi/app', 'c1'), await push('multi/app', 'c2'), await push('multi/app', 'c3')];
    await go.crane(['index', 'append', '--insecure', '-m', `${H}/multi/app@${c1}`, '-m', `${H}/multi/app@${c2}`, '-t', `${H}/multi/app:idx`]);
    await go.crane(['index', 'append', '--insecure', '-m', `${H}/multi/app@${c3}`, '-t', `${H}/multi/app:idx2`]);
    const idx = (await go.crane(['digest', '--insecure', `${H}/multi/app:idx`])).stdout.trim();
    await sign(keyA, `${H}/multi/app@${idx}`);
    assert.equal((await addKey('multi', 'release', keyA)).status, 201);
    await setMeta('multi', 'enable_content_trust_cosign', 'true');
    assert.deepEqual(await pull('multi/app', 'idx'), { status: 200 });
    for (const c of [c1, c2]) assert.deepEqual(await pull('multi/app', c), { status: 200 }, c);
    assert.deepEqual(await pull('multi/app', 'idx2'), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by cosign.' });
    assert.deepEqual(await pull('multi/app', c3), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by cosign.' });
    // Harbor's with_inherited_accessory: the index's signature shown on its children, only when asked
    const child = (await admin.call('GET', `/projects/multi/repositories/app/artifacts/${c1}?with_inherited_accessory=true`)).json();
    assert.equal(child.accessories, null);
    assert.deepEqual(child.inherited_accessories.map((a: { type: string; subject_artifact_digest: string }) => [a.type, a.subject_artifact_digest]), [['signature.cosign', idx]]);
    assert.ok(!('inherited_accessories' in (await admin.call('GET', `/projects/multi/repositories/app/artifacts/${c1}`)).json()));
    assert.ok(!('inherited_accessories' in (await admin.call('GET', `/projects/multi/repositories/app/artifacts/${c3}?with_inherited_accessory=true`)).json()));
    const listed = (await admin.call('GET', '/projects/multi/repositories/app/artifacts?q=base%3D*&with_inherited_accessory=true&page_size=20')).json() as { digest: string; inherited_accessories?: unknown[] }[];
    assert.deepEqual(listed.filter((a) => a.inherited_accessories).map((a) => a.digest).sort(), [c1, c2].sort());
    // the real client pulls the whole signed index (index, then each platform manifest by digest)
    await go.crane(['pull', '--insecure', '--format=oci', `${H}/multi/app:idx`, join(work, 'multi-out')]);
  });

  test('copy carries the signatures: cosign verify passes on the copy in another project', async () => {
    await admin.createProject('copyto', false);
    const r = await admin.call('POST', `/projects/copyto/repositories/app/artifacts?from=${encodeURIComponent('signed/app:tagmode')}`);
    assert.equal(r.status, 201, r.text);
    const acc = (await admin.call('GET', `/projects/copyto/repositories/app/artifacts/${img.tagmode}/accessories`)).json() as { type: string }[];
    assert.deepEqual(acc.map((a) => a.type), ['signature.cosign']);
    const v = await verify(keyA, `${H}/copyto/app:tagmode`);
    assert.equal(v.code, 0, v.stderr);
    assert.equal((await admin.call('GET', '/projects/copyto/repositories/app/artifacts')).headers.get('x-total-count'), '1');
  });

  async function runGc(): Promise<Record<string, number>> {
    const r = await admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { delete_untagged: true, workers: 1 } });
    assert.equal(r.status, 201, r.text);
    const id = r.headers.get('location')!.split('/').pop();
    for (let i = 0; i < 600; i++) {
      const h = (await admin.call('GET', `/system/gc/${id}`)).json();
      if (!['Pending', 'Running'].includes(h.job_status)) {
        assert.equal(h.job_status, 'Success', JSON.stringify(h));
        return JSON.parse(h.job_parameters);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`gc ${id} did not finish`);
  }
});
