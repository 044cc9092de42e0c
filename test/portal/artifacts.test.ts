// Issue #12's portal items in headless Chromium against a real Berth: an image index shows its platforms and
// expands to its children; accessories are icons with their type as tooltip and a signature marks the
// artifact signed; digests, sizes, times and "untagged" do not wrap at 1440×900; the project list's "My role"
// for the system admin and the project page's member count; labels added and removed on an artifact row.
// Images, the index and the referrers are pushed over HTTP with the registry test client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { MediaTypes, RegistryClient, digestOf } from '../helpers/registry-client.ts';
import { ensurePortalBuilt, launchChromium, uiLogin, newContext } from '../helpers/browser.ts';

const PW = 'Portal-Passw0rd';
const short = (d: string) => d.slice(0, 19);
const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';

describe('portal: artifacts (issue #12)', { timeout: 600_000 }, () => {
  let berth: Berth;
  let api: ApiClient;
  let reg: RegistryClient;
  let browser: Browser;
  let page: Page;
  let libraryId: number;
  const children: { digest: string; platform: string }[] = [];
  let indexDigest = '';
  let signedDigest = '';

  /** A referrer manifest (OCI 1.1 subject) of `artifactType` attached to `subject`. */
  async function pushReferrer(repo: string, subject: { digest: string; size: number }, artifactType: string): Promise<string> {
    const empty = await reg.pushBlob(repo, Buffer.from('{}'));
    const layer = await reg.pushBlob(repo, Buffer.from(`payload ${artifactType} ${Math.random()}`));
    const m = {
      schemaVersion: 2,
      mediaType: MediaTypes.OciManifest,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size },
      layers: [{ mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size }],
      subject: { mediaType: MediaTypes.OciManifest, digest: subject.digest, size: subject.size },
    };
    const bytes = Buffer.from(JSON.stringify(m));
    return (await reg.pushManifest(repo, digestOf(bytes), bytes, MediaTypes.OciManifest)).digest;
  }

  before(async () => {
    ensurePortalBuilt();
    berth = await startBerth();
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    libraryId = (await api.call('GET', '/projects/library', undefined, { 'X-Is-Resource-Name': 'true' })).json().project_id;

    // A two-platform index: two small image manifests and an index over them.
    for (const architecture of ['amd64', 'arm64']) {
      const img = await reg.pushImage('library/multi', `only-${architecture}`);
      children.push({ digest: img.digest, platform: `linux/${architecture}` });
    }
    const index = {
      schemaVersion: 2,
      mediaType: MediaTypes.OciIndex,
      manifests: await Promise.all(
        children.map(async (c) => ({
          mediaType: MediaTypes.OciManifest,
          digest: c.digest,
          size: (await reg.getManifest('library/multi', c.digest)).body.length,
          platform: { os: 'linux', architecture: c.platform.split('/')[1] },
        })),
      ),
    };
    indexDigest = (await reg.pushManifest('library/multi', 'multi', index)).digest;

    // A signed image: a cosign signature and another accessory, both as subject referrers.
    const signed = await reg.pushImage('library/signed', 'v1');
    signedDigest = signed.digest;
    await pushReferrer('library/signed', { digest: signed.digest, size: signed.bytes.length }, COSIGN_SIG);
    await pushReferrer('library/signed', { digest: signed.digest, size: signed.bytes.length }, 'application/spdx+json');
    // An untagged artifact for the wrapping check.
    const loose = await reg.pushImage('library/signed', 'loose');
    assert.equal((await api.call('DELETE', `/projects/library/repositories/signed/artifacts/${loose.digest}/tags/loose`)).status, 200);

    browser = await launchChromium();
    const ctx = await newContext(browser, { viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    page = await ctx.newPage();
    await uiLogin(page, berth.url, 'admin', berth.adminPassword);
  });

  after(async () => {
    await browser?.close();
    await berth?.stop();
  });

  test('an image index shows its platforms and expands to its children (digest, platform, size)', async () => {
    await page.goto(`${berth.url}/projects/${libraryId}/repositories/multi`);
    const row = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'multi' });
    await row.waitFor();
    const platforms = row.locator('[data-testid=platforms]');
    assert.deepEqual((await platforms.locator('.ant-tag').allInnerTexts()).sort(), ['linux/amd64', 'linux/arm64']);
    assert.match(await row.innerText(), new RegExp(short(indexDigest)));
    // A single-platform image has no platform list and no expander.
    const single = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'only-amd64' });
    assert.equal(await single.locator('[data-testid=platforms]').count(), 0);
    assert.equal(await single.locator('button.ant-table-row-expand-icon:not(.ant-table-row-expand-icon-spaced)').count(), 0);

    await row.locator('button.ant-table-row-expand-icon').click();
    const kids = page.locator('[data-testid=index-children] tbody tr.ant-table-row');
    await kids.nth(1).waitFor();
    assert.equal(await kids.count(), 2);
    for (const c of children) {
      const kid = kids.filter({ hasText: short(c.digest) });
      const text = await kid.innerText();
      assert.match(text, new RegExp(c.platform));
      // The size comes from the child artifact (not the placeholder).
      const expected = (await api.call('GET', `/projects/library/repositories/multi/artifacts/${c.digest}`)).json().size as number;
      assert.ok(expected > 0);
      await kid.locator('td').last().filter({ hasNotText: '—' }).waitFor();
      assert.match(await kid.locator('td').last().innerText(), /^\d+(\.\d+)?\s*(B|kB|KiB|MB|MiB)$/i);
    }
  });

  test('accessories are icons with their type as tooltip; a signature marks the artifact signed', async () => {
    await page.goto(`${berth.url}/projects/${libraryId}/repositories/signed`);
    const row = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'v1' });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(short(signedDigest)));
    const icons = row.locator('[data-testid=accessory-icon]');
    await icons.nth(1).waitFor();
    assert.deepEqual((await icons.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).sort(), ['signature.cosign', 'subject.accessory']);
    // No raw type strings in the row; the type is in the tooltip.
    assert.doesNotMatch(await row.innerText(), /signature\.cosign|subject\.accessory/);
    await row.locator('[data-type="signature.cosign"]').hover();
    await page.getByRole('tooltip').filter({ hasText: 'Accessory: signature.cosign' }).waitFor();
    await row.locator('[data-testid=signed-mark]').waitFor();
    // The untagged artifact has neither.
    const untagged = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'untagged' });
    assert.equal(await untagged.locator('[data-testid=signed-mark]').count(), 0);
    assert.equal(await untagged.locator('[data-testid=accessory-icon]').count(), 0);
  });

  test('digests, sizes, times and "untagged" do not wrap at 1440×900', async () => {
    await page.goto(`${berth.url}/projects/${libraryId}/repositories/signed`);
    await page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'untagged' }).waitFor();
    // Each line box of a wrapped text is one client rect: count the distinct lines of each cell's text.
    // (A string: the test's tsconfig has no DOM types.)
    const lines = (await page.evaluate(`(() => {
      const table = document.querySelector('[data-testid=artifacts-table]');
      const heads = [...table.querySelectorAll('thead th')].map((th) => (th.textContent || '').trim());
      const linesOf = (el) => {
        const r = document.createRange();
        r.selectNodeContents(el);
        return new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.bottom))).size;
      };
      const out = {};
      for (const name of ['Digest', 'Size', 'Push time']) {
        const i = heads.indexOf(name);
        out[name] = [...table.querySelectorAll('tbody tr.ant-table-row')].map((tr) => {
          const td = tr.children[i];
          const el = name === 'Digest' ? td.querySelector('code') : td;
          return el ? linesOf(el) : -1;
        });
      }
      out.untagged = [...table.querySelectorAll('tbody tr.ant-table-row .ant-typography-secondary')].map((e) => e.getClientRects().length);
      return out;
    })()`)) as Record<string, number[]>;
    assert.ok(lines.untagged.length >= 1, 'an untagged artifact is listed');
    for (const [name, counts] of Object.entries(lines)) {
      assert.ok(counts.length > 0, name);
      for (const n of counts) assert.equal(n, 1, `${name} wraps: ${JSON.stringify(lines)}`);
    }
  });

  test('"My role" on the project list is System Admin for the admin (English and 中文)', async () => {
    await api.createUser('owner1', PW);
    const own = new ApiClient(berth.url, 'owner1', PW);
    assert.equal((await own.call('POST', '/projects', { project_name: 'owned', metadata: { public: 'false' } })).status, 201);
    await page.goto(`${berth.url}/projects`);
    const row = page.locator('[data-testid=projects-table] tbody tr', { hasText: 'owned' });
    await row.waitFor();
    assert.match(await row.innerText(), /System Admin/);
    assert.doesNotMatch(await row.innerText(), /—/);

    const zh = await newContext(browser, { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    try {
      const p = await zh.newPage();
      await uiLogin(p, berth.url, 'admin', berth.adminPassword);
      const r = p.locator('[data-testid=projects-table] tbody tr', { hasText: 'owned' });
      await r.getByText('系统管理员').waitFor();
    } finally {
      await zh.close();
    }
  });

  test('the project page shows the real member count (library has its admin)', async () => {
    const s = (await api.call('GET', `/projects/${libraryId}/summary`)).json();
    const total = ['project_admin_count', 'maintainer_count', 'developer_count', 'guest_count', 'limited_guest_count'].reduce((n, k) => n + (s[k] ?? 0), 0);
    assert.equal(s.project_admin_count, 1);
    await api.createUser('dev9', PW);
    await api.addMember(libraryId, 'dev9', 2);
    await page.goto(`${berth.url}/projects/${libraryId}/repositories`);
    const item = page.locator('.ant-descriptions-item', { hasText: 'Members' });
    await item.getByText(String(total + 1), { exact: true }).waitFor();
    const members = (await api.call('GET', `/projects/${libraryId}/members`)).json() as { entity_name: string }[];
    assert.deepEqual(members.map((m) => m.entity_name).sort(), ['admin', 'dev9']);
  });

  test('labels are added to and removed from an artifact in the row, global and project ones', async () => {
    const g = await api.call('POST', '/labels', { name: 'release', color: '#52c41a', scope: 'g' });
    assert.equal(g.status, 201);
    const pl = await api.call('POST', '/labels', { name: 'team-a', color: '#1677ff', scope: 'p', project_id: libraryId });
    assert.equal(pl.status, 201);
    const labelsOf = async () =>
      (((await api.call('GET', `/projects/library/repositories/signed/artifacts/${signedDigest}?with_label=true`)).json().labels ?? []) as { name: string }[]).map((l) => l.name).sort();

    await page.goto(`${berth.url}/projects/${libraryId}/repositories/signed`);
    const row = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'v1' });
    await row.waitFor();
    for (const name of ['release', 'team-a']) {
      await row.locator('[data-testid=label-picker]').click();
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: name }).click();
      await row.locator('[data-testid=artifact-labels] .ant-tag', { hasText: name }).waitFor();
    }
    assert.deepEqual(await labelsOf(), ['release', 'team-a']);

    await row.getByLabel('Remove label release').click();
    await row.locator('[data-testid=artifact-labels] .ant-tag', { hasText: 'release' }).waitFor({ state: 'detached' });
    assert.deepEqual(await labelsOf(), ['team-a']);
  });
});
