// The portal's project Webhooks tab end to end: headless chromium against a real Berth (loopback allow-listed
// for the outbound guard) and a real HTTP receiver. The admin creates a policy in the dialog (a refused address
// shows the server's error there first), a pushed image reaches the receiver, the execution, its task and the
// task's log appear in the UI; the policy is disabled, then deleted; the tab's strings in 中文.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { Receiver } from '../helpers/receiver.ts';
import { ensurePortalBuilt, loggedInPage } from '../helpers/browser.ts';

const PROJECT = 'hooked';
const AUTH = 'Bearer portal-hook-token';

interface PolicyJson {
  id: number;
  name: string;
  enabled: boolean;
  event_types: string[];
  targets: { type: string; address: string; auth_header: string; skip_cert_verify: boolean; payload_format: string }[];
}

describe('portal webhooks', { timeout: 300_000 }, () => {
  let berth: Berth;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let projectId: number;
  const rx = new Receiver();
  const pageErrors: string[] = [];
  const policies = async () => (await api.call('GET', `/projects/${projectId}/webhook/policies`)).json() as PolicyJson[];
  const row = () => page.locator('[data-testid=webhooks-table] tbody tr.ant-table-row', { hasText: 'ci-hook' }).first();

  before(async () => {
    ensurePortalBuilt();
    await rx.start();
    berth = await startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    projectId = await api.createProject(PROJECT, false);
    ({ browser, page } = await loggedInPage(berth.url, 'admin', berth.adminPassword, pageErrors));
  });

  after(async () => {
    await browser?.close();
    await berth?.stop();
    await rx.stop();
  });

  test('the admin creates a policy in the dialog; a refused address shows the server error there', async () => {
    await page.goto(`${berth.url}/projects/${projectId}/webhooks`);
    await page.getByRole('tab', { name: 'Webhooks' }).waitFor();
    await page.locator('[data-testid=new-webhook]').click();
    const dialog = page.getByRole('dialog');
    await page.locator('#webhook-name').fill('ci-hook');
    await page.locator('#webhook-description').fill('tells CI');
    // Every supported event type is offered (and checked for a new policy).
    const events = (await api.call('GET', `/projects/${projectId}/webhook/events`)).json() as { event_type: string[] };
    for (const e of events.event_type) assert.ok(await dialog.getByRole('checkbox', { name: e, exact: true }).isChecked(), e);
    await dialog.getByText('CloudEvents', { exact: true }).waitFor();
    // Slack has no payload formats and no auth header; back to http.
    await dialog.getByRole('radio', { name: 'slack', exact: true }).check();
    await dialog.getByText('CloudEvents', { exact: true }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('#webhook-auth').count(), 0);
    await dialog.getByRole('radio', { name: 'http', exact: true }).check();

    await page.locator('#webhook-address').fill('http://169.254.169.254/latest');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.locator('[data-testid=webhook-error]', { hasText: /not allowed \(cloud metadata\)/ }).waitFor();
    assert.deepEqual(await policies(), [], 'nothing saved');

    await page.locator('#webhook-address').fill(rx.url('/portal'));
    await page.locator('#webhook-auth').fill(AUTH);
    // Only pushes and deletes.
    for (const e of events.event_type) if (e !== 'PUSH_ARTIFACT' && e !== 'DELETE_ARTIFACT') await dialog.getByRole('checkbox', { name: e, exact: true }).uncheck();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await row().waitFor();
    const text = await row().innerText();
    assert.match(text, /Enabled/);
    assert.match(text, new RegExp(rx.url('/portal').replace(/[.]/g, '\\.')));
    assert.match(text, /PUSH_ARTIFACT/);
    assert.ok(text.includes('—'), 'never triggered yet');
    const [p] = await policies();
    assert.equal(p!.name, 'ci-hook');
    assert.deepEqual([...p!.event_types].sort(), ['DELETE_ARTIFACT', 'PUSH_ARTIFACT']);
    assert.deepEqual(p!.targets, [{ type: 'http', address: rx.url('/portal'), auth_header: '*****', skip_cert_verify: false, payload_format: 'Default' }]);
  });

  test('a push is delivered; its execution, task and task log show in the UI', async () => {
    const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    await reg.pushImage(`${PROJECT}/app`, 'v1');
    await rx.waitFor((rs) => rs.some((r) => r.path === '/portal' && JSON.parse(r.body).type === 'PUSH_ARTIFACT'));
    assert.equal(rx.requests.find((r) => r.path === '/portal')!.headers.authorization, AUTH);

    await page.reload();
    await row().locator('.ant-table-row-expand-icon').click();
    const executions = page.locator('[data-testid=webhook-executions]');
    const exRow = executions.locator('tbody tr.ant-table-row', { hasText: 'PUSH_ARTIFACT' }).first();
    // The execution turns Success once the job records it; refresh until then.
    for (let i = 0; i < 50 && !/Success/.test((await exRow.innerText().catch(() => '')) || ''); i++) {
      await page.waitForTimeout(300);
      await executions.locator('[data-testid=refresh-executions]').click();
    }
    assert.match(await exRow.innerText(), /Success[\s\S]*EVENT/);
    await exRow.locator('.ant-table-row-expand-icon').click();
    const task = page.locator('[data-testid=webhook-tasks] tbody tr.ant-table-row').first();
    await task.getByText('Success').waitFor();
    await task.locator('[data-testid=webhook-task-log-button]').click();
    const log = page.locator('[data-testid=webhook-task-log]');
    await log.getByText(/200/).first().waitFor();
    assert.ok(!(await log.innerText()).includes('portal-hook-token'), 'the log does not show the auth header');
    await page.keyboard.press('Escape');
    // The policy's last trigger time is filled in: '—' (never triggered) was the only dash in the row.
    // The row renders with the policy list; the lasttrigger query may land after it, so wait for the dash to go.
    await page.reload();
    await row().filter({ hasNotText: '—' }).waitFor({ timeout: 15_000 }).catch(async () => assert.fail(await row().innerText()));
  });

  test('the admin disables, then deletes the policy', async () => {
    await row().locator('[data-testid=toggle-webhook]').click();
    await row().locator('[data-testid=webhook-state]', { hasText: 'Disabled' }).waitFor();
    assert.equal((await policies())[0]!.enabled, false);
    await row().locator('[data-testid=delete-button]').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await page.locator('[data-testid=webhooks-table] .ant-empty-description').waitFor();
    assert.deepEqual(await policies(), []);
  });

  test('the tab in 中文', async () => {
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: '简体中文' }).click();
    await page.getByRole('button', { name: '新建 Webhook' }).waitFor();
    for (const h of ['名称', '启用状态', '通知类型', '地址', '事件类型', '最后触发时间']) await page.getByRole('columnheader', { name: h, exact: true }).waitFor();
    await page.getByRole('button', { name: '新建 Webhook' }).click();
    const dialog = page.getByRole('dialog');
    for (const s of ['负载格式', '认证头', '验证远程证书']) await dialog.getByText(s, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: /取\s*消/ }).click();
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: 'English' }).click();
    await page.getByRole('button', { name: 'New Webhook' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
