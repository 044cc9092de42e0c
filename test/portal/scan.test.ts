// Issue #15's portal items in headless Chromium against a real Berth with fixture OSV advisories: an image pushed
// over HTTP (a small Debian-like OS layer and the real npm layer of test/helpers/scan-images.ts) shows "Not
// scanned" in the artifact list, the Scan button scans it and the row moves on by itself to its severity and
// counts with a severity bar; the artifact page's Vulnerabilities tab lists the findings; the same in 中文.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { MediaTypes, RegistryClient, digestOf } from '../helpers/registry-client.ts';
import { ensurePortalBuilt, launchChromium, newContext, uiLogin } from '../helpers/browser.ts';
import { npmLayer } from '../helpers/scan-images.ts';
import { tar } from '../helpers/tar.ts';

const CRIT = [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }];
const FEED = [
  { id: 'DSA-9002-1', modified: '2026-01-01T00:00:00Z', aliases: ['CVE-2099-0004'], severity: CRIT, affected: [{ package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.20-1' }] }] }] },
  { id: 'GHSA-0000-0000-0001', modified: '2026-01-01T00:00:00Z', aliases: ['CVE-2099-0009'], database_specific: { severity: 'MODERATE' }, affected: [{ package: { ecosystem: 'npm', name: 'express' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '4.0.0' }, { fixed: '4.22.0' }] }] }] },
];

describe('portal: vulnerability scanning (issue #15)', { timeout: 600_000 }, () => {
  const feedDir = mkdtempSync(join(tmpdir(), 'berth-portal-feed-'));
  let berth: Berth;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let libraryId = 0;
  let digest = '';

  before(async () => {
    ensurePortalBuilt();
    writeFileSync(join(feedDir, 'feed.json'), JSON.stringify(FEED));
    berth = await startBerth({ env: { BERTH_SCANNER_ADVISORIES: feedDir } });
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    libraryId = (await api.call('GET', '/projects/library', undefined, { 'X-Is-Resource-Name': 'true' })).json().project_id;
    const os = await reg.pushBlob(
      'library/scanme',
      tar([
        { path: 'etc/os-release', body: 'ID=debian\nVERSION_ID="12"\n' },
        { path: 'var/lib/dpkg/status', body: 'Package: openssl\nStatus: install ok installed\nVersion: 3.0.20-1~deb12u2\n' },
      ]),
    );
    const app = await reg.pushBlob('library/scanme', readFileSync(npmLayer()));
    const config = await reg.pushBlob('library/scanme', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.OciManifest,
        config: { mediaType: MediaTypes.OciConfig, digest: config.digest, size: config.size },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: os.digest, size: os.size },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: app.digest, size: app.size },
        ],
      }),
    );
    digest = (await reg.pushManifest('library/scanme', 'v1', m, MediaTypes.OciManifest)).digest;
    assert.equal(digest, digestOf(m));
    browser = await launchChromium();
    const ctx = await newContext(browser, { viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    page = await ctx.newPage();
    await uiLogin(page, berth.url, 'admin', berth.adminPassword);
  });

  after(async () => {
    await browser?.close();
    await berth?.stop();
    rmSync(feedDir, { recursive: true, force: true });
  });

  test('the artifact list shows the scan state; Scan scans and the row shows the severity, counts and bar', async () => {
    await page.goto(`${berth.url}/projects/${libraryId}/repositories/scanme`);
    const row = page.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'v1' });
    await row.waitFor();
    await row.locator('[data-testid=scan-status]', { hasText: 'Not scanned' }).waitFor();
    await row.locator('[data-testid=scan-button]').click();
    // the list re-reads itself while the scan is queued or running
    await row.locator('[data-testid=scan-severity]', { hasText: 'Critical' }).waitFor();
    assert.match(await row.locator('[data-testid=scan-status]').innerText(), /2 total · 2 fixable/);
    assert.equal(await row.locator('[data-testid=scan-bar] > div').count(), 2, 'one segment per severity found');
  });

  test("the artifact page's Vulnerabilities tab lists the findings, most severe first", async () => {
    await page.goto(`${berth.url}/projects/${libraryId}/repositories/scanme/artifacts/${digest}`);
    await page.getByRole('tab', { name: 'Vulnerabilities' }).click();
    const rows = page.locator('[data-testid=vulnerabilities-table] tbody tr.ant-table-row');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /CVE-2099-0004\s+Critical\s+openssl\s+3\.0\.20-1~deb12u2\s+3\.0\.20-1/);
    assert.match(await rows.nth(1).innerText(), /CVE-2099-0009\s+Medium\s+express\s+4\.21\.2\s+4\.22\.0/);
  });

  test('in 中文 the scan column and tab are translated', async () => {
    const ctx = await newContext(browser, { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    await ctx.addInitScript(() => localStorage.setItem('berth.lang', 'zh-CN'));
    const zh = await ctx.newPage();
    await uiLogin(zh, berth.url, 'admin', berth.adminPassword);
    await zh.goto(`${berth.url}/projects/${libraryId}/repositories/scanme`);
    const row = zh.locator('[data-testid=artifacts-table] tbody tr.ant-table-row', { hasText: 'v1' });
    await row.locator('[data-testid=scan-severity]', { hasText: '危急' }).waitFor();
    assert.match(await row.innerText(), /共 2 个 · 可修复 2 个/);
    await zh.locator('th', { hasText: '漏洞' }).first().waitFor();
    await zh.goto(`${berth.url}/projects/${libraryId}/repositories/scanme/artifacts/${digest}`);
    await zh.locator('.ant-tabs-tab', { hasText: '漏洞' }).click();
    await zh.locator('[data-testid=vulnerabilities-table] th', { hasText: '修复版本' }).waitFor();
    await ctx.close();
  });
});
