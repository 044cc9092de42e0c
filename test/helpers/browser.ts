// Headless Chromium for the portal tests: the built portal (built once if missing), Debian's chromium through
// playwright-core, and the login form.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
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
