// `npm run bench:portal`: the web portal's weight and speed on this machine.
//   1. Initial JS transferred: the JavaScript the browser downloads to show the projects page (index.html's
//      entry module, its modulepreloads and the lazily loaded projects-page chunks), as Berth sends it
//      (precompressed gzip; brotli is smaller still), summed from the real network responses in chromium.
//   2. Time to interactive on the projects page with 1,000 projects: navigation start -> the projects table
//      rendered with its rows and the main thread free to answer input (a click on the search box reaches
//      React's handler). Cold (empty cache) once, then warm (median of 5).
// Targets: initial JS < 400 KB gzip, interactive < 1 s. BENCH_STRICT=1 exits 1 when a target is missed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startBerth } from '../test/helpers/berth.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PROJECTS = Number(process.env.BENCH_PORTAL_PROJECTS ?? 1000);
const TARGET_JS = 400 * 1000;
const TARGET_TTI = 1000;

if (!existsSync(join(ROOT, 'portal', 'dist', 'index.html')) || process.env.BENCH_PORTAL_REBUILD === '1') {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'portal/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

const berth = await startBerth({ database: (process.env.BERTH_TEST_DATABASE as 'sqlite' | 'postgres' | undefined) ?? 'sqlite' });
const auth = 'Basic ' + Buffer.from(`admin:${berth.adminPassword}`).toString('base64');
try {
  // ---- seed
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < PROJECTS; i = next++) {
      const r = await fetch(`${berth.url}/api/v2.0/projects`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ project_name: `bench-${String(i).padStart(4, '0')}`, metadata: { public: String(i % 3 === 0) } }),
      });
      if (r.status !== 201) throw new Error(`create project ${i}: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`seeded ${PROJECTS} projects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    // Log in through the portal (session cookie), then measure fresh navigations to /projects.
    await page.goto(`${berth.url}/login`);
    await page.locator('#login-username').fill('admin');
    await page.locator('#login-password').fill(berth.adminPassword);
    await page.locator('[data-testid=login-submit]').click();
    await page.locator('[data-testid=projects-table] tbody tr').first().waitFor();

    const measure = async (cold: boolean) => {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      if (cold) await cdp.send('Network.clearBrowserCache');
      const js = new Map<string, number>();
      const sizes = new Map<string, { url: string; type: string }>();
      cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, { url: e.response.url, type: e.response.mimeType }));
      cdp.on('Network.loadingFinished', (e) => {
        const r = sizes.get(e.requestId);
        if (r && /javascript/.test(r.type)) js.set(r.url, e.encodedDataLength);
      });
      await page.goto('about:blank');
      await page.goto(`${berth.url}/projects`, { waitUntil: 'commit' });
      await page.locator('[data-testid=projects-table] tbody tr.ant-table-row').nth(9).waitFor();
      // Interactive: an input event gets through to the app and the next frame is painted.
      // (a string: this file is type-checked without the DOM library)
      const tti = (await page.evaluate(`new Promise((res) => {
        const input = document.querySelector('input[aria-label]');
        input.addEventListener('focus', () => requestAnimationFrame(() => setTimeout(() => res(performance.now()), 0)), { once: true });
        input.focus();
      })`)) as number;
      if (process.env.BENCH_PORTAL_TRACE === '1')
        console.log(
          await page.evaluate(`performance.getEntries().map((e) => e.entryType + ' ' + e.name.replace(location.origin, '') + ' ' + e.startTime.toFixed(0) + '-' + (e.responseEnd ?? e.startTime + e.duration).toFixed(0)).join('\\n')`),
        );
      const rows = await page.locator('[data-testid=projects-table] tbody tr.ant-table-row').count();
      const total = await page.locator('.ant-pagination-total-text').innerText();
      await cdp.detach();
      return { tti, js, rows, total };
    };

    const cold = await measure(true);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await measure(false)).tti);
    warm.sort((a, b) => a - b);
    const median = warm[2];

    const html = await (await fetch(`${berth.url}/`)).text();
    const entry = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
    // gzip: the size of the .gz file Berth sends to a gzip-only client; wire: what chromium received (brotli).
    const gzipSize = (path: string) => {
      const f = join(ROOT, 'portal', 'dist', path);
      return existsSync(`${f}.gz`) ? statSync(`${f}.gz`).size : statSync(f).size;
    };
    let entryBytes = 0;
    let projectsBytes = 0;
    let wireBytes = 0;
    console.log('\nJavaScript loaded for the projects page:    gzip      wire (brotli)');
    for (const [url, wire] of [...cold.js].sort((a, b) => b[1] - a[1])) {
      const path = new URL(url).pathname;
      const initial = entry.includes(path);
      const gz = gzipSize(path);
      if (initial) entryBytes += gz;
      projectsBytes += gz;
      wireBytes += wire;
      console.log(`  ${path.padEnd(42)} ${(gz / 1000).toFixed(1).padStart(7)} KB ${(wire / 1000).toFixed(1).padStart(7)} KB${initial ? '  (index.html)' : ''}`);
    }
    console.log(`  total on the wire (brotli, as chromium downloads it): ${(wireBytes / 1000).toFixed(1)} KB`);
    const ok = (v: boolean) => (v ? 'PASS' : 'FAIL');
    console.log(`\nprojects page: ${cold.rows} rows shown, "${cold.total}"`);
    console.log('| measure | value | target | |');
    console.log('|---|---|---|---|');
    console.log(`| initial JS (index.html entry + preloads), gzip | ${(entryBytes / 1000).toFixed(1)} KB | < 400 KB | ${ok(entryBytes < TARGET_JS)} |`);
    console.log(`| all JS for the projects page (+ lazy chunks), gzip | ${(projectsBytes / 1000).toFixed(1)} KB | < 400 KB | ${ok(projectsBytes < TARGET_JS)} |`);
    console.log(`| time to interactive, projects page, cold cache | ${cold.tti.toFixed(0)} ms | < 1000 ms | ${ok(cold.tti < TARGET_TTI)} |`);
    console.log(`| time to interactive, projects page, warm (median of 5) | ${median.toFixed(0)} ms | < 1000 ms | ${ok(median < TARGET_TTI)} |`);
    const failed = projectsBytes >= TARGET_JS || cold.tti >= TARGET_TTI || median >= TARGET_TTI;
    if (failed && process.env.BENCH_STRICT === '1') process.exitCode = 1;
  } finally {
    await browser.close();
  }
} finally {
  await berth.stop();
}
