// Browser helpers shared by the portal end-to-end tests: the portal build, Debian's chromium through
// playwright-core, and the login form. In a module of their own so a test file importing them does not also
// register portal.test.ts's suite.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { ROOT } from './berth.ts';

export function ensurePortalBuilt(): void {
  if (existsSync(join(ROOT, 'portal', 'dist', 'index.html'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'portal/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`portal build failed:\n${r.stdout}\n${r.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export async function uiLogin(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.locator('#login-username').fill(user);
  await page.locator('#login-password').fill(password);
  await page.locator('[data-testid=login-submit]').click();
  await page.locator('[data-testid=projects-table] tbody tr').first().waitFor();
}

/** A browser context whose waits allow 60 s: CI runs the portal files beside other suites on 2 CPUs, where a page
 * that needs 5 s alone has been seen to need more than Playwright's default 30 s. Nothing here measures speed. */
export async function newContext(browser: Browser, options: BrowserContextOptions): Promise<BrowserContext> {
  const ctx = await browser.newContext(options);
  ctx.setDefaultTimeout(60_000);
  return ctx;
}

/** Chromium with one English 1400×900 page, logged in as `user`; uncaught page errors are appended to `errors`. */
export async function loggedInPage(url: string, user: string, password: string, errors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await uiLogin(page, url, user, password);
  return { browser, page };
}
