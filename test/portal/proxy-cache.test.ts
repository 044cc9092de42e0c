// The portal's proxy-cache project creation end to end: headless chromium against a real Berth whose endpoint is a
// second real Berth. The admin turns on "Proxy Cache" in the New Project dialog, picks the endpoint, creates the
// project; the list and the project page show it is a proxy cache (and of which endpoint); an image pushed to the
// upstream is then pulled through the new project over /v2. The same dialog in 中文.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ensurePortalBuilt, loggedInPage, newContext, uiLogin } from '../helpers/browser.ts';
import { pushImage } from '../api/artifact-fixtures.ts';
import { manifestAt } from '../replication/helpers.ts';

describe('portal proxy-cache projects', { timeout: 300_000 }, () => {
  let berth: Berth;
  let upstream: Berth;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ensurePortalBuilt();
    [berth, upstream] = await Promise.all([startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } }), startBerth()]);
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    const r = await api.call('POST', '/registries', { name: 'upstream', type: 'harbor', url: upstream.url, credential: { type: 'basic', access_key: 'admin', access_secret: upstream.adminPassword } });
    assert.equal(r.status, 201, r.text);
    ({ browser, page } = await loggedInPage(berth.url, 'admin', berth.adminPassword, pageErrors));
  });

  after(async () => {
    await browser?.close();
    await Promise.all([berth?.stop(), upstream?.stop()]);
  });

  /** Picks the endpoint in the dialog's select (opened when closed; a click during the animation can miss). */
  const pickEndpoint = async () => {
    const option = page.locator('.ant-select-item-option', { hasText: 'upstream' });
    const select = page.locator('.ant-select').filter({ has: page.locator('#project-endpoint') });
    for (let i = 0; i < 15; i++) {
      if (!(await option.isVisible())) await page.locator('#project-endpoint').click({ force: true });
      if (await option.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
        await page.waitForTimeout(300);
        await option.click({ timeout: 3000 }).catch(() => undefined);
      }
      if ((await select.innerText()).includes('upstream')) return;
    }
    assert.fail('the endpoint select never showed the endpoint');
  };

  test('the admin creates a proxy-cache project with the endpoint; list and detail show it', async () => {
    await page.locator('[data-testid=new-project]').click();
    await page.locator('#project-name').fill('hub');
    // The endpoint is required once the switch is on.
    // Under load a click can land while the dialog still opens: click until the switch is on.
    for (let i = 0; i < 10 && (await page.locator('#project-proxy').getAttribute('aria-checked')) !== 'true'; i++) {
      await page.locator('#project-proxy').click();
      await page.waitForTimeout(200);
    }
    await page.locator('#project-proxy[aria-checked="true"]').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('dialog').getByText('Required').first().waitFor();
    await pickEndpoint();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const row = page.locator('[data-testid=projects-table] tbody tr', { hasText: 'hub' });
    await row.waitFor();
    await row.getByText('Proxy Cache').waitFor();
    const p = (await api.call('GET', '/projects/hub')).json();
    const ep = (await api.call('GET', '/registries')).json()[0];
    assert.equal(p.registry_id, ep.id);
    // A normal project shows no proxy tag.
    assert.equal(await page.locator('[data-testid=projects-table] tbody tr', { hasText: 'library' }).getByText('Proxy Cache').count(), 0);

    await row.getByRole('link', { name: 'hub' }).click();
    await page.getByText(`upstream (${upstream.url})`).waitFor();
    assert.ok(await page.getByText('Proxy Cache').first().isVisible());

    // It works: an image of the upstream pulls through the project the portal created.
    const upApi = new ApiClient(upstream.url, 'admin', upstream.adminPassword);
    await upApi.createProject('team', false);
    const img = await pushImage(new RegistryClient({ baseUrl: upstream.url, username: 'admin', password: upstream.adminPassword }), 'team/web', 'v1');
    const got = await manifestAt(new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword }), 'hub/team/web', 'v1');
    assert.ok(got?.equals(img.bytes));
    assert.deepEqual(pageErrors, []);
  });

  test('the dialog in 中文', async () => {
    const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
    const zh = await ctx.newPage();
    await zh.addInitScript(() => localStorage.setItem('berth.lang', 'zh-CN'));
    await uiLogin(zh, berth.url, 'admin', berth.adminPassword);
    await zh.locator('[data-testid=projects-table] tbody tr', { hasText: 'hub' }).getByText('镜像代理').waitFor();
    await zh.locator('[data-testid=new-project]').click();
    await zh.getByRole('dialog').getByText('镜像代理', { exact: true }).waitFor();
    await zh.locator('#project-proxy').click();
    await zh.getByRole('dialog').getByText('仓库端点', { exact: true }).waitFor();
    await ctx.close();
  });
});
