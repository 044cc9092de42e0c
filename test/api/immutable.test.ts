// Tag immutability through the real interfaces: Harbor's /immutabletagrules API (shapes, errors, the 15-rule
// limit, RBAC), and enforcement on every write path — /v2 manifest PUT over an immutable tag and /v2 DELETE,
// the API's tag, artifact and repository deletes and artifact copy — with skopeo pushing over a protected tag.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../helpers/api-client.ts';
import { buildOciImage, createContainersEnv, makeTempDir, removeDir, type ContainersEnv } from '../helpers/clients.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from './artifact-fixtures.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const reg = () => new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });

const rule = (repo: string, tag: string, o: { repoDecoration?: string; tagDecoration?: string; disabled?: boolean; priority?: number } = {}) => ({
  disabled: o.disabled ?? false,
  action: 'immutable',
  template: 'immutable_template',
  priority: o.priority ?? 0,
  tag_selectors: [{ kind: 'doublestar', decoration: o.tagDecoration ?? 'matches', pattern: tag }],
  scope_selectors: { repository: [{ kind: 'doublestar', decoration: o.repoDecoration ?? 'repoMatches', pattern: repo }] },
});

async function addRule(project: string, body: unknown, client = f.admin): Promise<number> {
  const r = await client.call('POST', `/projects/${project}/immutabletagrules`, body);
  expectApi(r, 201);
  const loc = r.headers.get('location')!;
  assert.match(loc, new RegExp(`^/api/v2.0/projects/${project}/immutabletagrules/\\d+$`));
  return Number(loc.split('/').pop());
}
const rules = async (project: string) => {
  const r = await f.admin.call('GET', `/projects/${project}/immutabletagrules?page_size=0`);
  expectApi(r, 200);
  return r.json() as { id: number; disabled: boolean; tag_selectors: { pattern: string }[] }[];
};
const clearRules = async (project: string) => {
  for (const x of await rules(project)) expectApi(await f.admin.call('DELETE', `/projects/${project}/immutabletagrules/${x.id}`), 200);
};
const tagsOf = async (project: string, repo: string, ref: string, immutable = true) => {
  const r = await f.admin.call('GET', `/projects/${project}/repositories/${encodeURIComponent(repo)}/artifacts/${ref}/tags?with_immutable_status=${immutable}`);
  expectApi(r, 200);
  return Object.fromEntries((r.json() as { name: string; immutable: boolean }[]).map((t) => [t.name, t.immutable]));
};

describe('immutable tag rules API', () => {
  const P = 'immu-api';
  let pid: number;
  before(async () => {
    pid = await f.admin.createProject(P, false);
  });

  test('create, list, update, toggle and delete in Harbor\'s shapes', async () => {
    const id = await addRule(P, rule('app/**', 'v{1,2}.*'));
    const list = await f.admin.call('GET', `/projects/${P}/immutabletagrules`);
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    assert.deepEqual(list.json(), [
      {
        id,
        disabled: false,
        priority: 0,
        action: 'immutable',
        template: 'immutable_template',
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v{1,2}.*' }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'app/**' }] },
      },
    ]);
    // By id as well as by name.
    expectApi(await f.admin.call('GET', `/projects/${pid}/immutabletagrules`), 200);

    // Update: the body's id must be the path's.
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, rule('app/**', 'release-*')), 400, 'BAD_REQUEST');
    const mismatch = await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('x', 'y'), id: id + 1 });
    expectApi(mismatch, 400, 'BAD_REQUEST');
    assert.match(mismatch.json().errors[0].message, /doesn't match the id in the payload/);
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('app/**', 'release-*'), id }), 200);
    assert.equal((await rules(P))[0].tag_selectors[0].pattern, 'release-*');
    // Toggling disabled (Harbor: a changed `disabled` only toggles, the rest of the body is not applied).
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('app/**', 'ignored', { disabled: true }), id }), 200);
    const [r1] = await rules(P);
    assert.equal(r1.disabled, true);
    assert.equal(r1.tag_selectors[0].pattern, 'release-*');

    expectApi(await f.admin.call('DELETE', `/projects/${P}/immutabletagrules/${id}`), 200);
    expectApi(await f.admin.call('DELETE', `/projects/${P}/immutabletagrules/${id}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('a', 'b'), id }), 404, 'NOT_FOUND');
    assert.deepEqual(await rules(P), []);
  });

  test('a rule of another project is not found through this one', async () => {
    await f.admin.createProject('immu-other', false);
    const id = await addRule('immu-other', rule('**', '**'));
    expectApi(await f.admin.call('DELETE', `/projects/${P}/immutabletagrules/${id}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('**', '**'), id }), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `/projects/no-such-project/immutabletagrules`), 404, 'NOT_FOUND');
    // A project's rules go with it: a project re-created under the name starts without rules.
    expectApi(await f.admin.call('DELETE', '/projects/immu-other'), 200);
    await f.admin.createProject('immu-other', false);
    assert.deepEqual(await rules('immu-other'), []);
  });

  test('invalid rules are a 400, the same rule twice a 409', async () => {
    const bad: unknown[] = [
      { ...rule('**', '**'), tag_selectors: [] },
      { ...rule('**', '**'), scope_selectors: {} },
      { ...rule('**', '**'), tag_selectors: [{ kind: 'label', decoration: 'matches', pattern: 'x' }] },
      { ...rule('**', '**'), tag_selectors: [{ kind: 'doublestar', decoration: 'withLabel', pattern: 'x' }] },
      rule('**', '{a,b'),
      rule('[x', '**'),
      rule('**', ''),
      rule('**', '**', { repoDecoration: 'matches' }),
      { ...rule('**', '**'), action: 'retain' },
      { ...rule('**', '**'), priority: '1' },
    ];
    for (const b of bad) expectApi(await f.admin.call('POST', `/projects/${P}/immutabletagrules`, b), 400, 'BAD_REQUEST');
    await addRule(P, rule('dup', 'dup'));
    const dup = await f.admin.call('POST', `/projects/${P}/immutabletagrules`, rule('dup', 'dup'));
    expectApi(dup, 409, 'CONFLICT');
    assert.match(dup.json().errors[0].message, /immutable rule already exists/);
    await clearRules(P);
  });

  test('at most 15 rules per project', async () => {
    for (let i = 0; i < 15; i++) await addRule(P, rule('**', `t${i}-*`));
    const r = await f.admin.call('POST', `/projects/${P}/immutabletagrules`, rule('**', 'one-too-many'));
    expectApi(r, 400, 'BAD_REQUEST');
    assert.match(r.json().errors[0].message, /at most 15/);
    const page = await f.admin.call('GET', `/projects/${P}/immutabletagrules?page=2&page_size=10`);
    assert.equal(page.headers.get('x-total-count'), '15');
    assert.equal((page.json() as unknown[]).length, 5);
    await clearRules(P);
  });

  test('permissions: maintainers manage rules; developers and guests are refused, anonymous 401', async () => {
    const users = { maint: 4, dev: 2, guest: 3 } as const;
    const clients: Record<string, ApiClient> = {};
    for (const [u, role] of Object.entries(users)) {
      await f.admin.createUser(`immu-${u}`, 'Immu-Passw0rd!');
      await f.admin.addMember(P, `immu-${u}`, role);
      clients[u] = new ApiClient(f.berth.url, `immu-${u}`, 'Immu-Passw0rd!');
    }
    const id = await addRule(P, rule('**', 'm-*'), clients.maint);
    expectApi(await clients.maint.call('GET', `/projects/${P}/immutabletagrules`), 200);
    for (const u of ['dev', 'guest']) {
      const c = clients[u];
      expectApi(await c.call('GET', `/projects/${P}/immutabletagrules`), 403, 'FORBIDDEN');
      expectApi(await c.call('POST', `/projects/${P}/immutabletagrules`, rule('**', `${u}-*`)), 403, 'FORBIDDEN');
      expectApi(await c.call('PUT', `/projects/${P}/immutabletagrules/${id}`, { ...rule('**', 'x'), id }), 403, 'FORBIDDEN');
      expectApi(await c.call('DELETE', `/projects/${P}/immutabletagrules/${id}`), 403, 'FORBIDDEN');
    }
    expectApi(await f.anon.call('GET', `/projects/${P}/immutabletagrules`), 401, 'UNAUTHORIZED');
    expectApi(await clients.maint.call('DELETE', `/projects/${P}/immutabletagrules/${id}`), 200);
  });
});

describe('immutability enforced on every write path', () => {
  const P = 'immu-enf';
  before(async () => {
    await f.admin.createProject(P, false);
  });

  test('/v2 push over an immutable tag is refused (412 PRECONDITION); the same digest again is accepted; other tags move', async () => {
    const r = reg();
    const a = await pushImage(r, `${P}/app`, 'v1.0');
    await pushImage(r, `${P}/app`, 'dev');
    await addRule(P, rule('app', 'v*'));
    const b = await pushImage(r, `${P}/app`, null);
    const refused = await r.putManifest(`${P}/app`, 'v1.0', b.bytes, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(refused.status, 412, refused.toString());
    assert.deepEqual(refused.json(), { errors: [{ code: 'PRECONDITION', message: "Failed to process request due to 'app:v1.0' configured as immutable." }] });
    assert.equal((await r.headManifest(`${P}/app`, 'v1.0')).header('docker-content-digest'), a.digest, 'the tag still names the old digest');
    // Re-pushing the very manifest the tag names changes nothing: accepted.
    assert.equal((await r.putManifest(`${P}/app`, 'v1.0', a.bytes, 'application/vnd.oci.image.manifest.v1+json')).status, 201);
    // `?tag=` is a tag write too.
    const viaQuery = await r.request('PUT', `/v2/${P}/app/manifests/${b.digest}?tag=v1.0`, { body: b.bytes, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(viaQuery.status, 412, viaQuery.toString());
    // A new tag matching the rule can be created; a tag outside it still moves.
    assert.equal((await r.putManifest(`${P}/app`, 'v2.0', b.bytes, 'application/vnd.oci.image.manifest.v1+json')).status, 201);
    assert.equal((await r.putManifest(`${P}/app`, 'dev', b.bytes, 'application/vnd.oci.image.manifest.v1+json')).status, 201);
    // Another repository is outside the rule (repository patterns match the name without the project).
    await pushImage(r, `${P}/other`, 'v1.0');
    await pushImage(r, `${P}/other`, 'v1.0'); // moves: pushImage throws unless 201

    assert.deepEqual(await tagsOf(P, 'app', a.digest), { 'v1.0': true });
    assert.deepEqual(await tagsOf(P, 'app', b.digest), { dev: false, 'v2.0': true });
    assert.deepEqual(await tagsOf(P, 'app', b.digest, false), { dev: false, 'v2.0': false }, 'without with_immutable_status, as Harbor: false');
    const arts = await f.admin.call('GET', `/projects/${P}/repositories/app/artifacts?with_immutable_status=true`);
    const flags = (arts.json() as { tags: { name: string; immutable: boolean }[] | null }[]).flatMap((x) => x.tags ?? []).map((t) => `${t.name}=${t.immutable}`).sort();
    assert.deepEqual(flags, ['dev=false', 'v1.0=true', 'v2.0=true']);
    await clearRules(P);
  });

  test('concurrent first pushes of one immutable tag: exactly one wins, the others are refused', async () => {
    const r = reg();
    await addRule(P, rule('race', 'r-*'));
    const imgs = [];
    for (let i = 0; i < 4; i++) imgs.push(await pushImage(r, `${P}/race`, null));
    const res = await Promise.all(imgs.map((x) => r.putManifest(`${P}/race`, 'r-1', x.bytes, 'application/vnd.oci.image.manifest.v1+json')));
    const won = res.map((x, i) => [x.status, i] as const).filter(([st]) => st === 201);
    assert.equal(won.length, 1, res.map((x) => x.status).join(','));
    assert.ok(res.every((x) => x.status === 201 || x.status === 412), res.map((x) => x.status).join(','));
    assert.equal((await r.headManifest(`${P}/race`, 'r-1')).header('docker-content-digest'), imgs[won[0][1]].digest);
    await clearRules(P);
  });

  test('deletes of an immutable tag are refused: /v2 by tag and by digest, API tag, artifact and repository', async () => {
    const r = reg();
    const a = await pushImage(r, `${P}/lib/db`, 'stable');
    await addRule(P, rule('lib/**', '{stable,lts}'));
    const byTag = await r.request('DELETE', `/v2/${P}/lib/db/manifests/stable`);
    assert.equal(byTag.status, 412, byTag.toString());
    assert.deepEqual(byTag.json(), { errors: [{ code: 'PRECONDITION', message: 'the tag stable configured as immutable, cannot be deleted' }] });
    const byDigest = await r.request('DELETE', `/v2/${P}/lib/db/manifests/${a.digest}`);
    assert.equal(byDigest.status, 412, byDigest.toString());

    const repoPath = encodeURIComponent('lib/db');
    const tagDel = await f.admin.call('DELETE', `/projects/${P}/repositories/${repoPath}/artifacts/${a.digest}/tags/stable`);
    expectApi(tagDel, 412, 'PRECONDITION');
    assert.equal(tagDel.json().errors[0].message, 'the tag stable configured as immutable, cannot be deleted');
    expectApi(await f.admin.call('DELETE', `/projects/${P}/repositories/${repoPath}/artifacts/stable`), 412, 'PRECONDITION');
    expectApi(await f.admin.call('DELETE', `/projects/${P}/repositories/${repoPath}`), 412, 'PRECONDITION');
    assert.equal((await r.headManifest(`${P}/lib/db`, 'stable')).status, 200, 'still there');

    // A second, mutable tag on the same artifact can go; the artifact still cannot.
    expectApi(await f.admin.call('POST', `/projects/${P}/repositories/${repoPath}/artifacts/${a.digest}/tags`, { name: 'tmp' }), 201);
    expectApi(await f.admin.call('DELETE', `/projects/${P}/repositories/${repoPath}/artifacts/${a.digest}/tags/tmp`), 200);

    // A disabled rule does not apply.
    const [x] = await rules(P);
    expectApi(await f.admin.call('PUT', `/projects/${P}/immutabletagrules/${x.id}`, { ...rule('lib/**', '{stable,lts}', { disabled: true }), id: x.id }), 200);
    assert.deepEqual(await tagsOf(P, 'lib/db', a.digest), { stable: false });
    assert.equal((await r.request('DELETE', `/v2/${P}/lib/db/manifests/stable`)).status, 202);
    await clearRules(P);
  });

  test('exclude decorations: every tag but the excluded, every repository but the excluded', async () => {
    const r = reg();
    const a = await pushImage(r, `${P}/ex`, 'keep');
    await r.putManifest(`${P}/ex`, 'snapshot-1', a.bytes, 'application/vnd.oci.image.manifest.v1+json');
    await addRule(P, rule('**', 'snapshot-*', { tagDecoration: 'excludes' }));
    assert.deepEqual(await tagsOf(P, 'ex', a.digest), { keep: true, 'snapshot-1': false });
    await clearRules(P);
    await addRule(P, rule('ex', '**', { repoDecoration: 'repoExcludes' }));
    assert.deepEqual(await tagsOf(P, 'ex', a.digest), { keep: false, 'snapshot-1': false });
    await clearRules(P);
  });

  test('copy onto an existing immutable tag of the target is refused; onto a new one it is accepted', async () => {
    const r = reg();
    const src = await pushImage(r, `${P}/src`, 'v1');
    await pushImage(r, `${P}/dst`, 'v1');
    await addRule(P, rule('dst', 'v*'));
    const from = encodeURIComponent(`${P}/src:v1`);
    const refused = await f.admin.call('POST', `/projects/${P}/repositories/dst/artifacts?from=${from}`);
    expectApi(refused, 412, 'PRECONDITION');
    assert.equal(refused.json().errors[0].message, 'the tag v1 configured as immutable, cannot be updated');
    assert.notEqual((await r.headManifest(`${P}/dst`, 'v1')).header('docker-content-digest'), src.digest);
    expectApi(await f.admin.call('POST', `/projects/${P}/repositories/fresh/artifacts?from=${from}`), 201);
    assert.deepEqual(await tagsOf(P, 'fresh', src.digest), { v1: false });
    await clearRules(P);
  });
});

describe('skopeo pushing over an immutable tag', { timeout: 180_000 }, () => {
  const P = 'immu-skopeo';
  let cenv: ContainersEnv;
  let work: string;
  before(async () => {
    work = makeTempDir('immu-skopeo');
    cenv = await createContainersEnv({ insecureRegistries: [f.berth.host] });
    await f.admin.createProject(P, false);
  });
  after(async () => {
    await cenv?.stop();
    if (work) removeDir(work);
  });

  test('the push fails with a clear message and the tag still points to the old digest', async () => {
    const creds = `admin:${f.berth.adminPassword}`;
    const ref = `docker://${f.berth.host}/${P}/web:1.0`;
    const first = await buildOciImage(join(work, 'a'), { tag: 'x' });
    const second = await buildOciImage(join(work, 'b'), { tag: 'x' });
    await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, first.ref, ref]);
    await addRule(P, rule('web', '*'));
    const res = await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, second.ref, ref], { allowFail: true });
    assert.notEqual(res.code, 0, 'skopeo must fail');
    assert.match(res.stderr, /configured as immutable/, res.stderr);
    assert.equal((await reg().headManifest(`${P}/web`, '1.0')).header('docker-content-digest'), first.manifestDigest);
    // The same image again is accepted (nothing moves).
    await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, first.ref, ref]);
    // skopeo delete (by digest) is refused too.
    const del = await cenv.skopeo(['delete', '--tls-verify=false', '--creds', creds, ref], { allowFail: true });
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /configured as immutable/, del.stderr);
  });
});
