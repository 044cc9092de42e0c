// OIDC through the portal in Chromium, end to end: the sign-in page's "LOGIN WITH TestIdP" button → the real
// provider's login and consent pages → back in Berth on the onboarding page (oidc_auto_onboard off) → the user
// picks a username → signed in; the OIDC groups exist, the admin group made the user a system admin (the
// configuration page with its OIDC settings and "Test OIDC server" opens for them); the profile shows the CLI
// secret and regenerates it; the local form still logs the admin in; the page strings in 中文.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { ensurePortalBuilt, launchChromium, newContext, uiLogin } from '../helpers/browser.ts';
import { startProvider, type TestProvider, oidcSettings } from '../helpers/oidc.ts';

describe('portal OIDC login', { timeout: 300_000 }, () => {
  let berth: Berth;
  let provider: TestProvider;
  let browser: Browser;
  let admin: ApiClient;
  const pageErrors: string[] = [];

  before(async () => {
    ensurePortalBuilt();
    // The provider listens on loopback: the outbound guard refuses it unless allow-listed.
    berth = await startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
    admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
    provider = await startProvider(berth.url, { 'dana-sub': { name: 'Dana Scully', email: 'dana@example.com', groups: ['berth-admins', 'xfiles'] } });
    const r = await admin.call('PUT', '/configurations', {
      auth_mode: 'oidc_auth',
      ...oidcSettings(provider),
      oidc_admin_group: 'berth-admins',
      oidc_auto_onboard: false,
      oidc_extra_redirect_parms: '{"prompt":"consent"}',
    });
    assert.equal(r.status, 200, r.text);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await provider?.stop();
    await berth?.stop();
    assert.deepEqual(pageErrors, []);
  });

  test('LOGIN WITH TestIdP → provider login and consent → onboarding → signed in as a system admin with the CLI secret', async () => {
    const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${berth.url}/login`);
    const button = page.locator('[data-testid=oidc-login]');
    await button.waitFor();
    assert.equal((await button.textContent())?.trim(), 'LOGIN WITH TestIdP');
    await button.click();
    // The provider's own pages (oidc-provider's development interactions).
    await page.locator('input[name=login]').fill('dana-sub');
    await page.locator('input[name=password]').fill('whatever');
    await page.locator('button[type=submit]').click();
    await page.locator('button:has-text("Continue")').click();
    // Back in Berth: choose the username.
    await page.waitForURL(/\/oidc-onboard\?/);
    const username = page.locator('#onboard-username');
    assert.equal(await username.inputValue(), 'Dana_Scully', 'prefilled from the name claim');
    await username.fill('dana');
    await page.locator('[data-testid=onboard-submit]').click();
    await page.locator('[data-testid=projects-table]').waitFor();
    assert.equal((await page.locator('[data-testid=user-menu]').textContent())?.trim(), 'dana');

    const users = (await admin.call('GET', '/users?q=username%3Ddana')).json() as { user_id: number; admin_role_in_auth: boolean }[];
    assert.equal(users.length, 1);
    const groups = (await admin.call('GET', '/usergroups?page_size=100')).json() as { group_name: string; group_type: number }[];
    assert.deepEqual(groups.filter((g) => g.group_type === 3).map((g) => g.group_name).sort(), ['berth-admins', 'xfiles']);

    // The admin group made dana a system admin: the configuration page opens, with the OIDC settings.
    await page.goto(`${berth.url}/admin/configuration`);
    const oidcCard = page.locator('[data-testid=oidc-settings]');
    await oidcCard.waitFor();
    assert.equal(await page.getByLabel('OIDC endpoint (issuer URL)').inputValue(), provider.issuer);
    await page.locator('[data-testid=oidc-ping]').click();
    await page.locator('[role=status]:has-text("valid discovery document")').waitFor();

    // The profile: the CLI secret, shown on demand and regenerated.
    await page.locator('[data-testid=user-menu]').hover();
    await page.locator('[data-testid=profile-open]').click();
    const secretInput = page.locator('[data-testid=cli-secret]');
    await secretInput.waitFor();
    const before = await secretInput.inputValue();
    assert.match(before, /^[A-Za-z0-9]{32}$/);
    assert.equal(await secretInput.getAttribute('type'), 'password', 'hidden until asked for');
    const login = await fetch(`${berth.url}/v2/`, { headers: { authorization: 'Basic ' + Buffer.from(`dana:${before}`).toString('base64') } });
    assert.equal(login.status, 200, 'the secret shown logs in on /v2');
    // Waits for the PUT itself (a slow machine took over 10 s to show the new secret once) and names its answer.
    const [put] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/cli_secret') && r.request().method() === 'PUT', { timeout: 30_000 }),
      page.locator('[data-testid=cli-secret-regenerate]').click(),
    ]);
    assert.equal(put.status(), 200, `PUT cli_secret: ${put.status()} ${await put.text()}`);
    let after = before;
    for (let i = 0; i < 300 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await secretInput.inputValue();
    }
    assert.match(after, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(after, before);
    await page.screenshot({ path: '/tmp/berth-oidc-profile.png' });
    await ctx.close();
  });

  test('the local form still logs the admin in; the sign-in page in 中文', async () => {
    const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
    await ctx.addInitScript(() => localStorage.setItem('berth.lang', 'zh-CN'));
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${berth.url}/login`);
    const button = page.locator('[data-testid=oidc-login]');
    await button.waitFor();
    const text = (await button.textContent())?.trim() ?? '';
    // The language comes from the browser locale or the stored choice; either way Chinese here.
    assert.match(text, /通过 TestIdP 登录/);
    await page.screenshot({ path: '/tmp/berth-oidc-login-zh.png' });
    await uiLogin(page, berth.url, 'admin', berth.adminPassword);
    assert.equal((await page.locator('[data-testid=user-menu]').textContent())?.trim(), 'admin');
    await ctx.close();
  });
});
