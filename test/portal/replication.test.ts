// The portal's Registries and Replications pages end to end: headless chromium against a real Berth (loopback
// allow-listed for the outbound guard) replicating to a second real Berth. The admin adds the peer as an endpoint
// (Test connection fails on a dead URL, then succeeds), edits it keeping the masked secret, creates a push rule,
// pushes an image over /v2, clicks Replicate, sees the execution succeed and the task log; the image is at the peer;
// a bandwidth-limited rule's execution is stopped from the table;
// deleting the endpoint in use shows the server's 412; the pages' strings in 中文.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ensurePortalBuilt, launchChromium, uiLogin, newContext } from '../helpers/browser.ts';
import { manifestAt } from '../replication/helpers.ts';

interface EndpointJson {
  id: number;
  name: string;
  url: string;
  insecure: boolean;
  description: string;
  credential: { type: string; access_key: string; access_secret: string };
}

describe('portal registries and replications', { timeout: 300_000 }, () => {
  let src: Berth;
  let dst: Berth;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const endpoints = async () => (await api.call('GET', '/registries')).json() as EndpointJson[];
  /** Picks the peer in the dialog's endpoint select. The dialog may still be opening and the endpoint list
   * loading when the first click lands, and a click during the dropdown's animation can miss; so: open it if
   * closed, let it settle, click the option, and check that the select now shows the peer. */
  const pickEndpoint = async () => {
    const option = page.locator('.ant-select-item-option', { hasText: 'peer' });
    const select = page.locator('.ant-select').filter({ has: page.locator('#replication-registry') });
    for (let i = 0; i < 15; i++) {
      if (!(await option.isVisible())) await page.locator('#replication-registry').click({ force: true });
      if (await option.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
        await page.waitForTimeout(300);
        await option.click({ timeout: 3000 }).catch(() => undefined);
      }
      if ((await select.innerText()).includes('peer')) return;
    }
    assert.fail('the endpoint select never showed the peer');
  };
  const regRow = () => page.locator('[data-testid=registries-table] tbody tr.ant-table-row', { hasText: 'peer' }).first();

  before(async () => {
    ensurePortalBuilt();
    [src, dst] = await Promise.all([startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } }), startBerth()]);
    api = new ApiClient(src.url, 'admin', src.adminPassword);
    await api.createProject('lib', false);
    browser = await launchChromium();
    const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await uiLogin(page, src.url, 'admin', src.adminPassword);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  test('the admin adds the peer with Test connection, then edits it keeping the secret', async () => {
    await page.goto(`${src.url}/admin/registries`);
    await page.locator('[data-testid=new-registry]').click();
    await page.locator('#registry-name').fill('peer');
    await page.locator('#registry-url').fill('http://127.0.0.1:1');
    await page.locator('#registry-access-key').fill('admin');
    await page.locator('#registry-access-secret').fill(dst.adminPassword);
    await page.locator('#registry-description').fill('the second Berth');
    await page.locator('[data-testid=registry-test]').click();
    await page.locator('[data-testid=registry-ping-result]', { hasText: /Connection failed: the registry is unhealthy/ }).waitFor();
    await page.locator('#registry-url').fill(dst.url);
    await page.locator('[data-testid=registry-test]').click();
    await page.locator('[data-testid=registry-ping-result]', { hasText: /Connection succeeded/ }).waitFor();
    await page.locator('[data-testid=registry-save]').click();
    await regRow().waitFor();
    assert.match(await regRow().innerText(), new RegExp(`harbor[\\s\\S]*${dst.url.replace(/[.]/g, '\\.')}[\\s\\S]*healthy`));
    const [e] = await endpoints();
    assert.deepEqual({ ...e, id: 0 }, { ...e, id: 0, name: 'peer', url: dst.url, insecure: false, description: 'the second Berth', credential: { type: 'basic', access_key: 'admin', access_secret: '*****' } });

    // Edit: the secret field holds the mask; saved unchanged, the stored secret stays (the ping by id still passes).
    await regRow().locator('[data-testid=edit-registry]').click();
    assert.equal(await page.locator('#registry-access-secret').inputValue(), '*****');
    await page.locator('#registry-description').fill('peer Berth');
    await page.locator('[data-testid=registry-save]').click();
    await regRow().getByText('peer Berth').waitFor();
    assert.equal((await api.call('POST', '/registries/ping', { id: e!.id })).status, 200);
    assert.ok(!(await page.content()).includes(dst.adminPassword), 'the secret is never shown');
  });

  test('a push rule, Replicate: the execution succeeds, its task log shows, the image is at the peer', async () => {
    await page.goto(`${src.url}/admin/replications`);
    await page.locator('[data-testid=new-replication]').click();
    const dialog = page.getByRole('dialog');
    await page.locator('#replication-name').fill('to-peer');
    await pickEndpoint();
    await page.locator('#replication-name-filter').fill('lib/**');
    await page.locator('#replication-tag-filter').fill('v*');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('[data-testid=replications-table] tbody tr.ant-table-row', { hasText: 'to-peer' }).first();
    await row.waitFor();
    assert.match(await row.innerText(), /Enabled[\s\S]*Local[\s\S]*peer[\s\S]*Manual/);
    const [p] = (await api.call('GET', '/replication/policies')).json();
    assert.deepEqual(p.filters, [
      { type: 'name', value: 'lib/**' },
      { type: 'tag', value: 'v*', decoration: 'matches' },
    ]);
    assert.equal(p.src_registry, null);

    const reg = new RegistryClient({ baseUrl: src.url, username: 'admin', password: src.adminPassword });
    const img = await reg.pushImage('lib/app', 'v1');
    await row.locator('[data-testid=replicate]').click();
    const executions = page.locator('[data-testid=replication-executions]');
    const exRow = executions.locator('tbody tr.ant-table-row').first();
    for (let i = 0; i < 100 && !/Succeed|Failed/.test((await exRow.innerText().catch(() => '')) || ''); i++) {
      await page.waitForTimeout(300);
      await executions.locator('[data-testid=refresh-executions]').click();
    }
    assert.match(await exRow.innerText(), /Succeed[\s\S]*Manual[\s\S]*100%[\s\S]*1 of 1 succeeded, 0 failed/);
    await exRow.locator('.ant-table-row-expand-icon').click();
    const task = page.locator('[data-testid=replication-tasks] tbody tr.ant-table-row').first();
    await task.getByText('Succeed').waitFor();
    assert.match(await task.innerText(), /artifact[\s\S]*lib\/app:\[v1\][\s\S]*copy/);
    await task.locator('[data-testid=replication-task-log-button]').click();
    await page.locator('[data-testid=replication-task-log]').getByText(/manifest sha256:[0-9a-f]{64} copied/).waitFor();
    assert.ok(!(await page.locator('[data-testid=replication-task-log]').innerText()).includes(dst.adminPassword));
    await page.keyboard.press('Escape');

    const peer = new RegistryClient({ baseUrl: dst.url, username: 'admin', password: dst.adminPassword });
    assert.ok((await manifestAt(peer, 'lib/app', 'v1'))?.equals(img.bytes), 'the manifest arrived byte-identical');
  });

  test('a slow rule (bandwidth limit set in the dialog) is stopped from the executions table', async () => {
    const reg = new RegistryClient({ baseUrl: src.url, username: 'admin', password: src.adminPassword });
    await reg.pushImage('lib/big', '1', { layerSize: 3 * 1024 * 1024 });
    // A fresh page: no closing modal (the log's) left over to intercept clicks.
    await page.goto(`${src.url}/admin/replications`);
    await page.locator('[data-testid=new-replication]').click();
    await page.locator('#replication-name').fill('slow');
    await pickEndpoint();
    await page.locator('#replication-name-filter').fill('lib/big');
    await page.locator('#replication-speed').fill('256');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const row = page.locator('[data-testid=replications-table] tbody tr.ant-table-row', { hasText: 'slow' }).first();
    await row.waitFor();
    const p = ((await api.call('GET', '/replication/policies')).json() as { name: string; speed: number }[]).find((x) => x.name === 'slow')!;
    assert.equal(p.speed, 256);
    await row.locator('[data-testid=replicate]').click();
    const executions = page.locator('[data-testid=replication-executions]');
    const exRow = executions.locator('tbody tr.ant-table-row').first();
    const stop = exRow.locator('[data-testid=stop-execution]');
    for (let i = 0; i < 50 && !(await stop.count()); i++) {
      await page.waitForTimeout(200);
      await executions.locator('[data-testid=refresh-executions]').click();
    }
    await stop.click();
    for (let i = 0; i < 75 && !/Stopped/.test(await exRow.innerText()); i++) {
      await page.waitForTimeout(200);
      await executions.locator('[data-testid=refresh-executions]').click();
    }
    assert.match(await exRow.innerText(), /Stopped/);
    const peer = new RegistryClient({ baseUrl: dst.url, username: 'admin', password: dst.adminPassword });
    assert.equal(await manifestAt(peer, 'lib/big', '1'), null, 'nothing half-copied');
  });

  test('deleting the endpoint a rule uses shows the server refusal', async () => {
    await page.goto(`${src.url}/admin/registries`);
    await regRow().locator('[data-testid=delete-button]').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.ant-message', { hasText: /is referenced by replication policies, cannot delete it/ }).waitFor();
    assert.equal((await endpoints()).length, 1);
  });

  test('the pages in 中文', async () => {
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: '简体中文' }).click();
    await page.getByRole('button', { name: '新建目标' }).waitFor();
    for (const h of ['目标名', '提供者', '目标 URL', '状态', '验证远程证书']) await page.getByRole('columnheader', { name: h, exact: true }).waitFor();
    await page.getByRole('button', { name: '新建目标' }).click();
    for (const s of ['访问 ID', '访问密码']) await page.getByRole('dialog').getByText(s, { exact: true }).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '测试连接' }).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: /取\s*消/ }).click();
    await page.getByRole('menuitem', { name: '复制管理' }).click();
    await page.getByRole('button', { name: '新建规则' }).waitFor();
    for (const h of ['名称', '源仓库', '目标仓库', '触发模式', '成功率']) await page.getByRole('columnheader', { name: h, exact: true }).first().waitFor();
    await page.getByRole('button', { name: '新建规则' }).click();
    for (const s of ['复制模式', '名称过滤', 'Tag 过滤', '仓库扁平化', '覆盖']) await page.getByRole('dialog').getByText(s, { exact: true }).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: /取\s*消/ }).click();
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: 'English' }).click();
    await page.getByRole('button', { name: 'New rule' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
