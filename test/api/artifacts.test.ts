// /api/v2.0 artifacts against a real Berth, with content pushed through /v2: type detection (image, index,
// chart, signature), references with platforms, tags, additions (build history from the config, Helm values /
// readme / dependencies from the chart archive), accessories (OCI subject and cosign `.sig` tag), copy (bytes
// pullable from the target through /v2), delete rules, labels and filters, pull time/count, pagination headers,
// q/sort injection, XSS payloads as data, and a cross-project id sweep.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryClient, digestOf } from '../helpers/registry-client.ts';
import { createGoClients, makeTempDir, removeDir, writeHelmChart } from '../helpers/clients.ts';
import { auditRows, expectApi, useApi, type AuditRowView } from './fixture.ts';
import { CHART_README, CHART_VALUES, HISTORY, pushChart, pushCosignSignature, pushImage, pushIndex, pushReferrer, type Pushed } from './artifact-fixtures.ts';

const f = useApi();
const sfx = randomBytes(3).toString('hex');
const P1 = `art-${sfx}`;
const P2 = `other-${sfx}`;
const reg = () => new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
const base = (repo: string, p = P1) => `/projects/${p}/repositories/${encodeURIComponent(encodeURIComponent(repo))}`;

let image: Pushed;
let index: Awaited<ReturnType<typeof pushIndex>>;
let chart: Pushed;
let sig: string;
let notation: string;
let sbom: string;
let other: Pushed;

describe('artifacts API', { timeout: 180_000 }, () => {
  before(async () => {
    await f.admin.createProject(P1, false);
    await f.admin.createProject(P2, false);
    const r = reg();
    image = await pushImage(r, `${P1}/app`, 'v1', { annotations: { 'org.opencontainers.image.authors': 'Jane <script>' } });
    sig = await pushCosignSignature(r, `${P1}/app`, image.digest);
    notation = await pushReferrer(r, `${P1}/app`, { digest: image.digest, size: image.bytes.length }, 'application/vnd.cncf.notary.signature');
    sbom = await pushReferrer(r, `${P1}/app`, { digest: image.digest, size: image.bytes.length }, 'application/spdx+json');
    index = await pushIndex(r, `${P1}/multi`, 'latest');
    chart = await pushChart(r, `${P1}/charts/mychart`, '0.1.0');
    other = await pushImage(r, `${P2}/secret`, 'v1');
  });

  test('list: an image with its type, size, extra_attrs, tags and addition links; accessories are not listed', async () => {
    const r = await f.admin.call('GET', `${base('app')}/artifacts?with_tag=true&with_label=true`);
    expectApi(r, 200);
    assert.equal(r.headers.get('x-total-count'), '1');
    const [a] = r.json();
    assert.equal(a.digest, image.digest);
    assert.equal(a.type, 'IMAGE');
    assert.equal(a.media_type, 'application/vnd.oci.image.config.v1+json');
    assert.equal(a.manifest_media_type, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(a.repository_name, `${P1}/app`);
    assert.equal(a.size, image.size);
    assert.equal(a.extra_attrs.architecture, 'amd64');
    assert.equal(a.extra_attrs.os, 'linux');
    assert.equal(a.extra_attrs.author, 'Jane <script>');
    assert.deepEqual(a.extra_attrs.config.Env, ['PATH=/usr/bin']);
    assert.deepEqual(a.annotations, { 'org.opencontainers.image.authors': 'Jane <script>' });
    assert.deepEqual(
      a.tags.map((t: { name: string }) => t.name),
      ['v1'],
    );
    assert.equal(a.tags[0].artifact_id, a.id);
    assert.equal(a.tags[0].immutable, false);
    assert.ok(a.tags[0].id > 0);
    assert.equal(a.pull_time, '0001-01-01T00:00:00.000Z');
    assert.equal(a.labels, null);
    assert.deepEqual(a.addition_links, {
      build_history: { href: `/api/v2.0/projects/${P1}/repositories/app/artifacts/${image.digest}/additions/build_history`, absolute: false },
    });
    // The project's artifacts only: the same digest under another project's URL is a 404.
    expectApi(await f.admin.call('GET', `${base('secret')}/artifacts/${other.digest}`), 404, 'NOT_FOUND');
  });

  test('get by tag and by digest; unknown 404, malformed 400', async () => {
    const byTag = (await f.admin.call('GET', `${base('app')}/artifacts/v1`)).json();
    const byDigest = (await f.admin.call('GET', `${base('app')}/artifacts/${image.digest}`)).json();
    assert.equal(byTag.id, byDigest.id);
    assert.equal(byTag.digest, image.digest);
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/nope`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/sha256:${'0'.repeat(64)}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/sha256:xyz`), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('GET', `${base('nope')}/artifacts/v1`), 404, 'NOT_FOUND');
  });

  test('build_history addition is the config history, verbatim', async () => {
    const r = await f.admin.call('GET', `${base('app')}/artifacts/v1/additions/build_history`);
    expectApi(r, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(r.json(), HISTORY);
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/v1/additions/values.yaml`), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/v1/additions/nope`), 400, 'BAD_REQUEST');
  });

  test('accessories: cosign .sig tag, notation and SBOM referrers by subject', async () => {
    const r = await f.admin.call('GET', `${base('app')}/artifacts/v1/accessories`);
    expectApi(r, 200);
    assert.equal(r.headers.get('x-total-count'), '3');
    const byDigest = new Map(r.json().map((a: { digest: string }) => [a.digest, a]));
    const id = (await f.admin.call('GET', `${base('app')}/artifacts/v1`)).json().id;
    for (const [d, type] of [
      [sig, 'signature.cosign'],
      [notation, 'signature.notation'],
      [sbom, 'subject.accessory'],
    ]) {
      const a = byDigest.get(d) as Record<string, unknown>;
      assert.ok(a, d);
      assert.equal(a.type, type);
      assert.equal(a.subject_artifact_digest, image.digest);
      assert.equal(a.subject_artifact_id, id);
      assert.equal(a.subject_artifact_repo, `${P1}/app`);
    }
    const withAcc = (await f.admin.call('GET', `${base('app')}/artifacts?with_accessory=true`)).json();
    assert.equal(withAcc[0].accessories.length, 3);
    // The signature itself is an artifact of the repository (by digest), typed as a signature.
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts/${sig}`)).json().type, 'SIGNATURE');
  });

  test('index: references with platforms, children hidden unless base=*, size includes the children', async () => {
    const list = await f.admin.call('GET', `${base('multi')}/artifacts`);
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    const [a] = list.json();
    assert.equal(a.type, 'IMAGE');
    assert.equal(a.manifest_media_type, 'application/vnd.oci.image.index.v1+json');
    assert.equal(a.size, index.size);
    assert.deepEqual(
      a.references.map((r: { child_digest: string; platform: { architecture: string } }) => [r.child_digest, r.platform.architecture]),
      [
        [index.children[0].digest, 'amd64'],
        [index.children[1].digest, 'arm64'],
      ],
    );
    assert.ok(a.references.every((r: { child_id: number; parent_id: number }) => r.child_id > 0 && r.parent_id === a.id));
    const all = await f.admin.call('GET', `${base('multi')}/artifacts?q=${encodeURIComponent('base=*')}`);
    assert.equal(all.headers.get('x-total-count'), '3');
    assert.equal(all.json().length, 3);
    // q=tags=nil lists the untagged ones of the base set
    const untagged = await f.admin.call('GET', `${base('multi')}/artifacts?q=${encodeURIComponent('base=*,tags=nil')}`);
    assert.equal(untagged.json().length, 2);
  });

  test('chart: CHART type, values.yaml / readme.md / dependencies from the archive', async () => {
    const a = (await f.admin.call('GET', `${base('charts/mychart')}/artifacts/0.1.0`)).json();
    assert.equal(a.type, 'CHART');
    assert.equal(a.extra_attrs.name, 'mychart');
    assert.deepEqual(Object.keys(a.addition_links).sort(), ['dependencies', 'readme.md', 'values.yaml']);
    assert.ok(a.addition_links['values.yaml'].href.includes('/repositories/charts%252Fmychart/'));
    const values = await f.admin.call('GET', `${base('charts/mychart')}/artifacts/0.1.0/additions/values.yaml`);
    expectApi(values, 200);
    assert.equal(values.text, CHART_VALUES);
    assert.match(values.headers.get('content-type') ?? '', /^text\/plain/);
    const readme = await f.admin.call('GET', `${base('charts/mychart')}/artifacts/0.1.0/additions/readme.md`);
    assert.equal(readme.text, CHART_README);
    assert.match(readme.headers.get('content-type') ?? '', /^text\/markdown/);
    const deps = await f.admin.call('GET', `${base('charts/mychart')}/artifacts/0.1.0/additions/dependencies`);
    assert.deepEqual(deps.json(), [{ name: 'redis', version: '17.0.0', repository: 'https://charts.example.com' }]);
    // Single-encoded `/` works too; the type filter finds the chart
    expectApi(await f.admin.call('GET', `/projects/${P1}/repositories/charts%2Fmychart/artifacts/0.1.0`), 200);
    const charts = await f.admin.call('GET', `${base('charts/mychart')}/artifacts?q=type%3DCHART`);
    assert.equal(charts.json().length, 1);
    assert.equal((await f.admin.call('GET', `${base('charts/mychart')}/artifacts?q=type%3DIMAGE`)).json().length, 0);
  });

  test('helm push (the real client): CHART, values.yaml and readme.md read from helm\'s own archive', async () => {
    const go = await createGoClients();
    const work = makeTempDir('helm-art');
    try {
      const target = { host: f.berth.host, creds: { username: 'admin', password: f.berth.adminPassword }, plainHttp: true };
      await go.configure(target);
      const chart = await writeHelmChart(work, 'realchart', '1.2.3');
      await writeFile(join(chart, 'README.md'), '# real chart <b>readme</b>\n');
      await go.helm(['package', chart, '-d', work]);
      await go.helm(['push', ...go.flags(target).helm, join(work, 'realchart-1.2.3.tgz'), `oci://${f.berth.host}/${P1}/helm`]);
      const a = (await f.admin.call('GET', `${base('helm/realchart')}/artifacts/1.2.3`)).json();
      assert.equal(a.type, 'CHART');
      assert.equal(a.extra_attrs.name, 'realchart');
      assert.equal(a.extra_attrs.version, '1.2.3');
      const values = await f.admin.call('GET', `${base('helm/realchart')}/artifacts/1.2.3/additions/values.yaml`);
      expectApi(values, 200);
      assert.equal(values.text, await readFile(join(chart, 'values.yaml'), 'utf8'));
      assert.equal((await f.admin.call('GET', `${base('helm/realchart')}/artifacts/1.2.3/additions/readme.md`)).text, '# real chart <b>readme</b>\n');
      assert.deepEqual((await f.admin.call('GET', `${base('helm/realchart')}/artifacts/1.2.3/additions/dependencies`)).json(), []);
    } finally {
      await go.stop();
      removeDir(work);
    }
  });

  test('tags: create, conflict, list, delete; audit records', async () => {
    const t = base('app') + '/artifacts/v1/tags';
    const created = await f.admin.call('POST', t, { name: 'v1.0', id: 999, repository_id: 12345 });
    expectApi(created, 201);
    expectApi(await f.admin.call('POST', t, { name: 'v1.0' }), 409, 'CONFLICT');
    // concurrent creations of one name: exactly one wins, on either artifact
    const racers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.admin.call('POST', i % 2 ? t : `${base('app')}/artifacts/${sig}/tags`, { name: 'race' })),
    );
    assert.deepEqual(racers.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    expectApi(await f.admin.call('DELETE', `${base('app')}/artifacts/race/tags/race`), 200);
    expectApi(await f.admin.call('POST', t, { name: 'bad tag' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', t, {}), 400);
    const list = await f.admin.call('GET', `${t}?sort=name`);
    assert.deepEqual(
      list.json().map((x: { name: string }) => x.name),
      ['v1', 'v1.0'],
    );
    assert.equal(list.headers.get('x-total-count'), '2');
    assert.equal((await f.admin.call('GET', `${t}?q=${encodeURIComponent('name=~1.')}`)).json().length, 1);
    // the new tag pulls the same manifest through /v2
    const pulled = await reg().getManifest(`${P1}/app`, 'v1.0');
    assert.equal(pulled.status, 200);
    assert.ok(pulled.body.equals(image.bytes));
    // a tag of another artifact is not deleted through this one
    expectApi(await f.admin.call('DELETE', `${base('multi')}/artifacts/latest/tags/v1.0`), 404);
    expectApi(await f.admin.call('DELETE', `${t}/v1.0`), 200);
    expectApi(await f.admin.call('DELETE', `${t}/v1.0`), 404, 'NOT_FOUND');
    assert.equal((await reg().getManifest(`${P1}/app`, 'v1.0')).status, 404);
    const isTag = (op: string) => (a: AuditRowView) => a.operation === op && a.resource_type === 'tag' && a.resource === `${P1}/app:v1.0`;
    const audit = await auditRows(f.berth, (rows) => rows.some(isTag('delete')));
    assert.ok(audit.some(isTag('create')));
    assert.ok(audit.some(isTag('delete')));
  });

  test('labels: attach global and project labels, filter, detach; another project’s label is a 404', async () => {
    const xss = '<script>alert("x")</script>';
    const g = await f.admin.call('POST', '/labels', { name: `g-${sfx}${xss}`, color: '#FF0000', scope: 'g', description: xss });
    expectApi(g, 201);
    const gid = Number(g.headers.get('location')!.split('/').pop());
    const p1 = (await f.admin.call('GET', `/projects/${P1}`)).json().project_id;
    const p2 = (await f.admin.call('GET', `/projects/${P2}`)).json().project_id;
    const pl = await f.admin.call('POST', '/labels', { name: 'prod', scope: 'p', project_id: p1 });
    const plid = Number(pl.headers.get('location')!.split('/').pop());
    const foreign = await f.admin.call('POST', '/labels', { name: 'prod', scope: 'p', project_id: p2 });
    expectApi(foreign, 201);
    const fid = Number(foreign.headers.get('location')!.split('/').pop());
    const lbl = `${base('app')}/artifacts/v1/labels`;
    expectApi(await f.admin.call('POST', lbl, { id: gid }), 200);
    expectApi(await f.admin.call('POST', lbl, { id: plid }), 200);
    expectApi(await f.admin.call('POST', lbl, { id: gid }), 409, 'CONFLICT');
    // cross-project: project B's label under project A's artifact
    expectApi(await f.admin.call('POST', lbl, { id: fid }), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('DELETE', `${lbl}/${fid}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('POST', lbl, { id: 987654 }), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('POST', lbl, { id: 'x' }), 400);
    const a = (await f.admin.call('GET', `${base('app')}/artifacts/v1?with_label=true`)).json();
    assert.deepEqual(a.labels.map((l: { id: number }) => l.id).sort((x: number, y: number) => x - y), [gid, plid].sort((x, y) => x - y));
    const gl = a.labels.find((l: { id: number }) => l.id === gid);
    assert.equal(gl.name, `g-${sfx}${xss}`);
    assert.equal(gl.description, xss);
    assert.equal(gl.scope, 'g');
    assert.equal(gl.project_id, 0);
    // filters: q=labels=(id1 id2) is an intersection
    const withBoth = await f.admin.call('GET', `${base('app')}/artifacts?q=${encodeURIComponent(`labels=(${gid} ${plid})`)}`);
    assert.equal(withBoth.json().length, 1);
    assert.equal((await f.admin.call('GET', `${base('multi')}/artifacts?q=${encodeURIComponent(`labels=(${gid})`)}`)).json().length, 0);
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts?q=${encodeURIComponent(`labels.id=${plid}`)}`)).json().length, 1);
    expectApi(await f.admin.call('DELETE', `${lbl}/${plid}`), 200);
    expectApi(await f.admin.call('DELETE', `${lbl}/${plid}`), 404);
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts?q=${encodeURIComponent(`labels=(${gid} ${plid})`)}`)).json().length, 0);
    // The foreign label was never attached anywhere
    const otherA = (await f.admin.call('GET', `${base('secret', P2)}/artifacts/v1?with_label=true`)).json();
    assert.equal(otherA.labels, null);
    // deleting a label detaches it
    expectApi(await f.admin.call('DELETE', `/labels/${gid}`), 200);
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts/v1?with_label=true`)).json().labels, null);
  });

  test('copy: by tag into another project, every byte pullable from the target; by digest (index with children)', async () => {
    const r = await f.admin.call('POST', `${base('copied', P2)}/artifacts?from=${encodeURIComponent(`${P1}/app:v1`)}`);
    expectApi(r, 201);
    // Harbor's Location names the reference as given in `from`
    assert.equal(r.headers.get('location'), `/api/v2.0/projects/${P2}/repositories/copied/artifacts/v1`);
    const c = reg();
    const m = await c.getManifest(`${P2}/copied`, 'v1');
    assert.equal(m.status, 200);
    assert.ok(m.body.equals(image.bytes));
    for (const b of image.blobs) {
      const got = await c.getBlob(`${P2}/copied`, b.digest);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(b.data));
    }
    const idx = await f.admin.call('POST', `${base('multi-copy', P2)}/artifacts?from=${encodeURIComponent(`${P1}/multi@${index.digest}`)}`);
    expectApi(idx, 201);
    const got = await c.getManifest(`${P2}/multi-copy`, index.digest);
    assert.ok(got.body.equals(index.bytes));
    for (const child of index.children) assert.equal((await c.getManifest(`${P2}/multi-copy`, child.digest)).status, 200);
    // unknown sources and malformed `from`
    expectApi(await f.admin.call('POST', `${base('x', P2)}/artifacts?from=${encodeURIComponent(`${P1}/app:nope`)}`), 404);
    expectApi(await f.admin.call('POST', `${base('x', P2)}/artifacts?from=nonsense`), 400);
    expectApi(await f.admin.call('POST', `${base('x', P2)}/artifacts?from=${encodeURIComponent(`nope-${sfx}/app:v1`)}`), 404);
    // A copy stores the artifact as a push does (PUSH_ARTIFACT under the copied tag), by the caller.
    const copied = (a: AuditRowView) => a.operation === 'create' && a.resource_type === 'artifact' && a.resource === `${P2}/copied:v1` && a.username === 'admin';
    assert.ok((await auditRows(f.berth, (rows) => rows.some(copied))).some(copied));
  });

  test('copy carries every tag of the artifact and its accessories (cosign tag, referrers), as Harbor copies them', async () => {
    const r = reg();
    const src = await pushImage(r, `${P1}/cp-src`, 'a');
    expectApi(await f.admin.call('POST', `${base('cp-src')}/artifacts/a/tags`, { name: 'b' }), 201);
    const s = await pushCosignSignature(r, `${P1}/cp-src`, src.digest);
    const ref = await pushReferrer(r, `${P1}/cp-src`, { digest: src.digest, size: src.bytes.length }, 'application/spdx+json');
    const c = await f.admin.call('POST', `${base('cp-dst', P2)}/artifacts?from=${encodeURIComponent(`${P1}/cp-src:a`)}`);
    expectApi(c, 201);
    const tags = (await f.admin.call('GET', `${base('cp-dst', P2)}/artifacts/${src.digest}/tags`)).json();
    assert.deepEqual(tags.map((t: { name: string }) => t.name).sort(), ['a', 'b']);
    const got = (await f.admin.call('GET', `${base('cp-dst', P2)}/artifacts/b?with_accessory=true`)).json();
    assert.equal(got.digest, src.digest);
    assert.deepEqual(got.accessories.map((a: { digest: string }) => a.digest).sort(), [s, ref].sort());
    // the accessories' bytes are served from the target too
    for (const d of [s, ref]) assert.equal((await r.getManifest(`${P2}/cp-dst`, d)).status, 200);
    // only the copied artifact: the list shows one artifact (accessories are not listed on their own)
    assert.equal((await f.admin.call('GET', `${base('cp-dst', P2)}/artifacts`)).headers.get('x-total-count'), '1');
  });

  test('vulnerabilities addition without a scan: {} as JSON (not a 400); unknown artifact 404', async () => {
    const r = await f.admin.call('GET', `${base('app')}/artifacts/v1/additions/vulnerabilities`, undefined, {
      'X-Accept-Vulnerabilities': 'application/vnd.security.vulnerability.report; version=1.1',
    });
    expectApi(r, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(r.json(), {});
    assert.deepEqual((await f.admin.call('GET', `${base('app')}/artifacts/${image.digest}/additions/vulnerabilities`)).json(), {});
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts/nope/additions/vulnerabilities`), 404, 'NOT_FOUND');
    expectApi(await f.anon.call('GET', `${base('app')}/artifacts/v1/additions/vulnerabilities`), 401, 'UNAUTHORIZED');
  });

  test('every with_* flag is accepted on list and get; the Artifact keeps Harbor\'s shape (no scan overview without a scan)', async () => {
    const all = 'with_tag=true&with_label=true&with_scan_overview=true&with_sbom_overview=true&with_signature=true&with_immutable_status=true&with_accessory=true';
    const list = await f.admin.call('GET', `${base('app')}/artifacts?${all}`);
    expectApi(list, 200);
    const a = list.json().find((x: { digest: string }) => x.digest === image.digest);
    const get = (await f.admin.call('GET', `${base('app')}/artifacts/v1?${all}`)).json();
    for (const v of [a, get]) {
      assert.equal(v.digest, image.digest);
      assert.equal('scan_overview' in v, false);
      assert.ok(v.tags.every((t: { immutable: boolean }) => t.immutable === false));
      assert.ok(v.accessories.length >= 3);
      assert.ok(v.labels === null || Array.isArray(v.labels));
    }
    const none = (await f.admin.call('GET', `${base('app')}/artifacts/v1?with_tag=false`)).json();
    assert.equal(none.tags, null);
    assert.equal(none.accessories, null);
    expectApi(await f.admin.call('GET', `${base('app')}/artifacts?with_signature=maybe`), 400, 'BAD_REQUEST');
  });

  test('GET /projects/{p}/artifacts: every repository of the project, by name or id; latest_in_repository as Harbor', async () => {
    const P3 = `proj-art-${sfx}`;
    const pid = await f.admin.createProject(P3, false);
    const r = reg();
    const one1 = await pushImage(r, `${P3}/one`, 'v1');
    const one2 = await pushImage(r, `${P3}/one`, 'v2');
    const two = await pushImage(r, `${P3}/team/two`, 'v1');
    await pushCosignSignature(r, `${P3}/team/two`, two.digest);
    const byName = await f.admin.call('GET', `/projects/${P3}/artifacts?with_tag=true&page_size=10`, undefined, { 'X-Is-Resource-Name': 'true' });
    expectApi(byName, 200);
    assert.equal(byName.headers.get('x-total-count'), '3');
    const items = byName.json();
    assert.deepEqual(items.map((a: { digest: string }) => a.digest).sort(), [one1.digest, one2.digest, two.digest].sort());
    for (const a of items) {
      assert.equal(a.project_id, pid);
      assert.equal(a.type, 'IMAGE');
      assert.ok([`${P3}/one`, `${P3}/team/two`].includes(a.repository_name));
      assert.equal(a.tags.length, 1);
    }
    // by id, paged (Harbor's Link header), and q
    const page = await f.admin.call('GET', `/projects/${pid}/artifacts?page=1&page_size=2`);
    assert.equal(page.json().length, 2);
    assert.equal(page.headers.get('x-total-count'), '3');
    assert.match(page.headers.get('link') ?? '', /rel="next"/);
    const v2 = (await f.admin.call('GET', `/projects/${pid}/artifacts?q=${encodeURIComponent('tags=v2')}`)).json();
    assert.deepEqual(v2.map((a: { digest: string }) => a.digest), [one2.digest]);
    // latest_in_repository needs exactly one of media_type / artifact_type
    expectApi(await f.admin.call('GET', `/projects/${pid}/artifacts?latest_in_repository=true`), 400, 'BAD_REQUEST');
    const mt = items[0].media_type;
    const latest = await f.admin.call('GET', `/projects/${pid}/artifacts?latest_in_repository=true&q=${encodeURIComponent(`media_type=${mt}`)}`);
    expectApi(latest, 200);
    assert.equal(latest.headers.get('x-total-count'), '2');
    assert.deepEqual(latest.json().map((a: { digest: string }) => a.digest).sort(), [one2.digest, two.digest].sort());
    // a project the caller cannot see
    await f.admin.createUser(`pa-${sfx}`, 'Proj-Art-Passw0rd!');
    expectApi(await f.admin.as(`pa-${sfx}`, 'Proj-Art-Passw0rd!').call('GET', `/projects/${pid}/artifacts`), 404, 'NOT_FOUND');
    expectApi(await f.anon.call('GET', `/projects/${pid}/artifacts`), 401, 'UNAUTHORIZED');
  });

  test('copy from a project the caller cannot see is a 404, nothing created', async () => {
    await f.admin.createUser(`cp-${sfx}`, 'Copy-Passw0rd!');
    await f.admin.addMember(P2, `cp-${sfx}`, 2);
    const dev = f.admin.as(`cp-${sfx}`, 'Copy-Passw0rd!');
    const r = await dev.call('POST', `${base('stolen', P2)}/artifacts?from=${encodeURIComponent(`${P1}/app:v1`)}`);
    expectApi(r, 404, 'NOT_FOUND');
    assert.ok(!r.text.includes(image.digest));
    expectApi(await f.admin.call('GET', base('stolen', P2)), 404);
    // and the same developer may copy inside its own project
    expectApi(await dev.call('POST', `${base('mine', P2)}/artifacts?from=${encodeURIComponent(`${P2}/secret:v1`)}`), 201);
  });

  test('copy into a project without room is refused (403) and links nothing', async () => {
    const small = `small-${sfx}`;
    expectApi(await f.admin.call('POST', '/projects', { project_name: small, storage_limit: 200 }), 201);
    const r = await f.admin.call('POST', `${base('c', small)}/artifacts?from=${encodeURIComponent(`${P1}/app:v1`)}`);
    expectApi(r, 403, 'FORBIDDEN');
    assert.match(r.text, /quota/);
    expectApi(await f.admin.call('GET', `${base('c', small)}/artifacts/v1`), 404);
    const q = (await f.admin.call('GET', `/quotas/${(await f.admin.call('GET', `/projects/${small}`)).json().project_id}`)).json();
    assert.equal(q.used.storage, 0);
    assert.equal((await reg().getBlob(`${small}/c`, image.blobs[1].digest)).status, 404);
  });

  test('delete: a child of an index is refused (412); the index goes with its untagged children; by tag', async () => {
    const r = reg();
    const idx = await pushIndex(r, `${P1}/del`, 'v1');
    expectApi(await f.admin.call('DELETE', `${base('del')}/artifacts/${idx.children[0].digest}`), 412, 'PRECONDITION');
    expectApi(await f.admin.call('DELETE', `${base('del')}/artifacts/v1`), 200);
    for (const d of [idx.digest, ...idx.children.map((c) => c.digest)]) assert.equal((await r.getManifest(`${P1}/del`, d)).status, 404, d);
    const all = await f.admin.call('GET', `${base('del')}/artifacts?q=${encodeURIComponent('base=*')}`);
    assert.equal(all.headers.get('x-total-count'), '0');
    const img = await pushImage(r, `${P1}/del`, 'solo');
    const s = await pushCosignSignature(r, `${P1}/del`, img.digest);
    expectApi(await f.admin.call('DELETE', `${base('del')}/artifacts/${img.digest}`), 200);
    assert.equal((await r.getManifest(`${P1}/del`, s)).status, 404, 'the signature went with its subject');
    expectApi(await f.admin.call('DELETE', `${base('del')}/artifacts/${img.digest}`), 404);
    const deleted = (a: AuditRowView) => a.operation === 'delete' && a.resource === `${P1}/del@${img.digest}`;
    assert.ok((await auditRows(f.berth, (rows) => rows.some(deleted))).some(deleted));
  });

  test('pagination: X-Total-Count and Harbor’s Link header; sort', async () => {
    const r = reg();
    const pushed: string[] = [];
    for (let i = 0; i < 5; i++) pushed.push((await pushImage(r, `${P1}/many`, `t${i}`)).digest);
    const p1 = await f.admin.call('GET', `${base('many')}/artifacts?page=1&page_size=2`);
    assert.equal(p1.headers.get('x-total-count'), '5');
    assert.deepEqual(
      p1.json().map((a: { digest: string }) => a.digest),
      [pushed[4], pushed[3]],
    );
    assert.equal(p1.headers.get('link'), `</api/v2.0/projects/${P1}/repositories/many/artifacts?page=2&page_size=2>; rel="next"`);
    const p2 = await f.admin.call('GET', `${base('many')}/artifacts?page=2&page_size=2`);
    assert.match(p2.headers.get('link') ?? '', /page=1&page_size=2>; rel="prev" , <.*page=3&page_size=2>; rel="next"$/);
    const asc = await f.admin.call('GET', `${base('many')}/artifacts?sort=push_time&page_size=5`);
    assert.deepEqual(
      asc.json().map((a: { digest: string }) => a.digest),
      pushed,
    );
    const tagged = await f.admin.call('GET', `${base('many')}/artifacts?q=${encodeURIComponent('tags=t3')}`);
    assert.deepEqual(
      tagged.json().map((a: { digest: string }) => a.digest),
      [pushed[3]],
    );
    assert.equal((await f.admin.call('GET', `${base('many')}/artifacts?q=${encodeURIComponent('tags=~t')}`)).headers.get('x-total-count'), '5');
    assert.equal((await f.admin.call('GET', `${base('many')}/artifacts?q=${encodeURIComponent(`digest=${pushed[1]}`)}`)).json()[0].digest, pushed[1]);
    const future = await f.admin.call('GET', `${base('many')}/artifacts?q=${encodeURIComponent('push_time=[2999-01-01 00:00:00~]')}`);
    assert.equal(future.json().length, 0);
    const since = await f.admin.call('GET', `${base('many')}/artifacts?q=${encodeURIComponent('push_time=[2000-01-01T00:00:00Z~2999-01-01T00:00:00Z]')}`);
    assert.equal(since.json().length, 5);
    expectApi(await f.admin.call('GET', `${base('many')}/artifacts?page_size=101`), 400);
  });

  test('q and sort injection attempts are 400s or ignored (unknown keys and sorts, as Harbor) and change nothing', async () => {
    // Harbor's ORM skips keys and sorts that are not filterable/sortable fields: the answer is the unfiltered list.
    const everything = (await f.admin.call('GET', `${base('app')}/artifacts`)).json().map((a: any) => a.digest);
    for (const qs of ['sort=push_time;DROP TABLE manifests', 'sort=(SELECT 1)', 'sort=name', `q=${encodeURIComponent('repository_id=1')}`]) {
      const r = await f.admin.call('GET', `${base('app')}/artifacts?${qs}`);
      expectApi(r, 200);
      assert.deepEqual(r.json().map((a: any) => a.digest), everything, qs);
    }
    // The unknown key is skipped; the tag value with SQL in it is a tag name that matches nothing.
    const odd = await f.admin.call('GET', `${base('app')}/artifacts?q=${encodeURIComponent("tags=x' OR 1=1 --,foo=1")}`);
    expectApi(odd, 200);
    assert.deepEqual(odd.json(), []);
    const bad = [
      `q=${encodeURIComponent("tags=x') OR 1=1 --,foo=1")}`,
      `q=${encodeURIComponent('labels=(1 OR 1=1)')}`,
      `q=${encodeURIComponent('digest=sha256:1 OR 1=1')}`,
      `q=${encodeURIComponent('type=IMAGE OR 1=1')}`,
      `q=${encodeURIComponent('base=all')}`,
      `q=${encodeURIComponent('push_time=[x~y]')}`,
      'with_tag=maybe',
    ];
    for (const qs of bad) expectApi(await f.admin.call('GET', `${base('app')}/artifacts?${qs}`), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('GET', `/projects/${P1}/repositories?sort=${encodeURIComponent('name;--')}`), 200);
    expectApi(await f.admin.call('GET', `/labels?sort=${encodeURIComponent('name desc')}`), 200);
    // a quoted tag filter with SQL inside is just a tag name that matches nothing
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts?q=${encodeURIComponent(`tags="x' OR '1'='1"`)}`)).json().length, 0);
    assert.equal((await f.admin.call('GET', `${base('app')}/artifacts`)).json().length, 1);
  });

  test('pull time and pull count follow /v2 manifest GETs (batched)', async () => {
    const r = reg();
    await new Promise((res) => setTimeout(res, 1500)); // pulls of earlier tests are flushed
    const before = (await f.admin.call('GET', base('app'))).json().pull_count;
    for (let i = 0; i < 3; i++) assert.equal((await r.getManifest(`${P1}/app`, 'v1')).status, 200);
    let a: { pull_time: string; tags: { pull_time: string }[] } | null = null;
    for (let i = 0; i < 50; i++) {
      a = (await f.admin.call('GET', `${base('app')}/artifacts/v1`)).json();
      if (a!.pull_time !== '0001-01-01T00:00:00.000Z' && a!.tags[0].pull_time !== '0001-01-01T00:00:00.000Z') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.notEqual(a!.pull_time, '0001-01-01T00:00:00.000Z');
    assert.ok(Date.now() - Date.parse(a!.pull_time) < 60_000);
    assert.notEqual(a!.tags[0].pull_time, '0001-01-01T00:00:00.000Z');
    for (let i = 0; i < 30; i++) {
      if ((await f.admin.call('GET', base('app'))).json().pull_count >= before + 3) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal((await f.admin.call('GET', base('app'))).json().pull_count, before + 3);
    // HEAD is not a pull
    await r.headManifest(`${P1}/app`, 'v1');
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal((await f.admin.call('GET', base('app'))).json().pull_count, before + 3);
  });

  test('the digest of the pushed bytes is the one the API reports (sanity)', () => {
    assert.equal(digestOf(image.bytes), image.digest);
  });
});
