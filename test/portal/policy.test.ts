// The portal's project Policy tab end to end: headless chromium against a real Berth with 3 tags of one repository
// pushed over /v2. The admin adds a retention rule "retain the latest 1 pushed" in the dialog (which creates the
// policy), dry-runs it (the execution and its task log show the would-be deletions, nothing is deleted), runs it
// (2 artifacts gone), sets a schedule; adds an immutability rule whose tag the API then refuses to delete; the
// tab's strings in 中文.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ensurePortalBuilt, loggedInPage, newContext, uiLogin } from '../helpers/browser.ts';

const PROJECT = 'keepers';
const REPO = `${PROJECT}/app`;

interface Artifact {
  digest: string;
  tags: { name: string }[] | null;
}
interface Exec {
  id: number;
  status: string;
  dry_run: boolean;
}

describe('portal policy tab', { timeout: 300_000 }, () => {
  let berth: Berth;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let projectId: number;
  const digests: Record<string, string> = {};
  const pageErrors: string[] = [];
  const artifacts = async () => (await api.call('GET', `/projects/${PROJECT}/repositories/app/artifacts?page_size=0&with_tag=true`)).json() as Artifact[];
  const tags = async () => (await artifacts()).flatMap((a) => (a.tags ?? []).map((t) => t.name)).sort();
  const retentionId = async () => Number(((await api.call('GET', `/projects/${projectId}`)).json() as { metadata: { retention_id?: string } }).metadata.retention_id);
  const executions = async () => (await api.call('GET', `/retentions/${await retentionId()}/executions?page_size=0`)).json() as Exec[];
  const execRows = () => page.locator('[data-testid=retention-executions] tbody tr.ant-table-row');

  /** Waits (through the UI's refresh button) until the newest execution row shows a final status. */
  async function waitForFinished(): Promise<string> {
    const row = execRows().first();
    for (let i = 0; i < 100; i++) {
      const text = (await row.innerText().catch(() => '')) || '';
      if (/Success|Error|Stopped/.test(text)) return text;
      await page.waitForTimeout(300);
      await page.locator('[data-testid=refresh-retention-executions]').click();
    }
    throw new Error(`execution never finished: ${await row.innerText()}`);
  }

  before(async () => {
    ensurePortalBuilt();
    berth = await startBerth();
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    projectId = await api.createProject(PROJECT, false);
    const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    // Push times have second resolution: a pause between pushes makes "most recently pushed" unambiguous.
    for (const [i, t] of ['v1', 'v2', 'v3'].entries()) {
      if (i) await sleep(1100);
      digests[t] = (await reg.pushImage(REPO, t)).digest;
    }
    ({ browser, page } = await loggedInPage(berth.url, 'admin', berth.adminPassword, pageErrors));
  });

  after(async () => {
    await browser?.close();
    await berth?.stop();
  });

  test('the first retention rule, added in the dialog, creates the project policy', async () => {
    await page.goto(`${berth.url}/projects/${projectId}/repositories`);
    await page.getByRole('tab', { name: 'Policy' }).click();
    await page.waitForURL(/\/policy$/);
    await page.locator('[data-testid=retention-section]').getByText('No rules').waitFor();
    assert.ok(!(await retentionId()), 'no policy yet');
    // Nothing to run before a rule exists.
    assert.equal(await page.locator('[data-testid=retention-run-now]').isDisabled(), true);

    await page.locator('[data-testid=add-retention-rule]').click();
    const dialog = page.getByRole('dialog');
    // The template list comes from /retentions/metadatas; the default is "most recently pushed #".
    await dialog.getByText('retain the most recently pushed # artifacts').waitFor();
    await page.locator('#retention-param').fill('1');
    assert.equal(await page.locator('#retention-repo-pattern').inputValue(), '**');
    assert.equal(await page.locator('#retention-tag-pattern').inputValue(), '**');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await dialog.waitFor({ state: 'detached' });

    const text = page.locator('[data-testid=retention-rule-text]').first();
    await text.waitFor();
    assert.equal(await text.innerText(), 'For repositories matching **, retain the most recently pushed 1 artifacts with tags matching ** including untagged artifacts');
    const id = await retentionId();
    assert.ok(id > 0, 'the project points at its new policy');
    const p = (await api.call('GET', `/retentions/${id}`)).json() as { rules: { template: string; params: Record<string, number>; tag_selectors: { pattern: string; extras: string }[]; scope_selectors: { repository: { pattern: string }[] } }[]; scope: { ref: number } };
    assert.equal(p.scope.ref, projectId);
    assert.equal(p.rules.length, 1);
    assert.equal(p.rules[0]!.template, 'latestPushedK');
    assert.deepEqual(p.rules[0]!.params, { latestPushedK: 1 });
    assert.equal(p.rules[0]!.scope_selectors.repository[0]!.pattern, '**');
    assert.deepEqual(JSON.parse(p.rules[0]!.tag_selectors[0]!.extras), { untagged: true });
  });

  test('a rule is disabled and enabled again; its edit dialog shows its values (a PUT of the policy)', async () => {
    const state = page.locator('[data-testid=retention-rule-state]').first();
    await page.locator('[data-testid=toggle-retention-rule]').first().click();
    await state.getByText('Disabled').waitFor();
    const id = await retentionId();
    assert.equal(((await api.call('GET', `/retentions/${id}`)).json() as { rules: { disabled: boolean }[] }).rules[0]!.disabled, true);
    await page.locator('[data-testid=toggle-retention-rule]').first().click();
    await state.getByText('Enabled').waitFor();
    assert.equal(((await api.call('GET', `/retentions/${id}`)).json() as { rules: { disabled: boolean }[] }).rules[0]!.disabled, false);
    assert.equal(await retentionId(), id, 'the same policy, updated');

    await page.locator('[data-testid=edit-retention-rule]').first().click();
    assert.equal(await page.locator('#retention-param').inputValue(), '1');
    await page.getByRole('dialog').getByRole('button', { name: /Cancel/ }).click();
  });

  test('Dry run: the execution shows, its task log lists the would-be deletions, nothing is deleted', async () => {
    await page.locator('[data-testid=retention-dry-run]').click();
    await execRows().first().waitFor();
    const text = await waitForFinished();
    assert.match(text, /Success/);
    assert.match(text, /Yes/, 'flagged as a dry run');
    const [e] = await executions();
    assert.equal(e!.dry_run, true);
    assert.equal(e!.status, 'Success');

    await execRows().first().locator('.ant-table-row-expand-icon').click();
    const task = page.locator('[data-testid=retention-tasks] tbody tr.ant-table-row').first();
    await task.getByText('app').waitFor();
    assert.match(await task.innerText(), /1\/3/, 'retained/total');
    await task.locator('[data-testid=retention-task-log-button]').click();
    const log = page.locator('[data-testid=retention-task-log]');
    await log.getByText(/would delete 2 of 3/).waitFor();
    const lines = (await log.innerText()).split('\n');
    for (const t of ['v1', 'v2']) assert.ok(lines.some((l) => l.includes(digests[t]!) && /\| DEL$/.test(l.trim())), `${t} would be deleted:\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.includes(digests.v3!) && !/\| DEL$/.test(l.trim())), 'v3 retained');
    await page.keyboard.press('Escape');
    await log.waitFor({ state: 'hidden' });
    assert.deepEqual(await tags(), ['v1', 'v2', 'v3'], 'a dry run deletes nothing');
  });

  test('Run now deletes the 2 older artifacts', async () => {
    await page.locator('[data-testid=retention-run-now]').click();
    // The new execution is the first row once the list refreshes.
    for (let i = 0; i < 50 && (await executions()).length < 2; i++) await sleep(200);
    await page.locator('[data-testid=refresh-retention-executions]').click();
    await execRows().nth(1).waitFor();
    const text = await waitForFinished();
    assert.match(text, /Success/);
    assert.match(text, /No/, 'not a dry run');
    assert.deepEqual(await tags(), ['v3']);
    assert.deepEqual((await artifacts()).map((a) => a.digest), [digests.v3]);
  });

  test('the schedule is set to Daily, then a custom cron, then None', async () => {
    const id = await retentionId();
    const cronOf = async () => ((await api.call('GET', `/retentions/${id}`)).json() as { trigger: { settings: { cron?: string } } }).trigger.settings.cron ?? '';
    const schedule = page.locator('[data-testid=retention-schedule]');
    assert.equal(await schedule.innerText(), 'None');
    const dialog = page.getByRole('dialog');
    // Under load a click can land while the modal still opens, or find the closing one's dropdown: wait for the last
    // dialog to be gone, then choose until the select shows the label.
    const pick = async (label: string) => {
      await dialog.waitFor({ state: 'detached' });
      await page.locator('[data-testid=edit-retention-schedule]').click();
      await dialog.waitFor();
      const shown = dialog.locator('.ant-select').first();
      for (let i = 0; i < 10 && !(await shown.innerText()).includes(label); i++) {
        await page.locator('#retention-schedule-preset').click();
        await page.locator('.ant-select-item-option', { hasText: label }).filter({ visible: true }).click({ timeout: 5000 }).catch(() => undefined);
      }
      assert.ok((await shown.innerText()).includes(label), `the schedule select shows ${label}`);
    };
    await pick('Daily');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await schedule.getByText('Daily').waitFor();
    assert.equal(await cronOf(), '0 0 0 * * *');

    // A bad cron is the server's 400, shown in the dialog.
    await pick('Custom');
    await page.locator('#retention-cron').fill('not a cron');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-testid=retention-schedule-error]').waitFor();
    await page.locator('#retention-cron').fill('0 30 2 * * *');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await schedule.getByText('Custom').waitFor();
    assert.equal(await cronOf(), '0 30 2 * * *');

    await pick('None');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await schedule.getByText('None').waitFor();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await cronOf(), '');
  });

  test('an immutability rule added in the UI makes the API refuse a tag delete; disable and delete it', async () => {
    const rules = async () => (await api.call('GET', `/projects/${PROJECT}/immutabletagrules`)).json() as { id: number; disabled: boolean; tag_selectors: { pattern: string }[]; scope_selectors: { repository: { pattern: string }[] } }[];
    await page.locator('[data-testid=add-immutable-rule]').click();
    await page.getByRole('dialog').waitFor();
    await page.locator('#immutable-repo-pattern').fill('app');
    await page.locator('#immutable-tag-pattern').fill('v*');
    await page.getByRole('dialog').getByRole('button', { name: 'Add' }).click();
    const row = page.locator('[data-testid=immutable-rules] tbody tr.ant-table-row').first();
    await row.getByText('matching v*').waitFor();
    assert.match(await row.innerText(), /matching app[\s\S]*matching v\*[\s\S]*Enabled/);
    const [r] = await rules();
    assert.equal(r!.scope_selectors.repository[0]!.pattern, 'app');
    assert.equal(r!.tag_selectors[0]!.pattern, 'v*');

    const del = () => api.call('DELETE', `/projects/${PROJECT}/repositories/app/artifacts/${digests.v3}/tags/v3`);
    const refused = await del();
    assert.equal(refused.status, 412, refused.text);
    assert.equal((refused.json() as { errors: { code: string }[] }).errors[0]!.code, 'PRECONDITION');

    await row.locator('[data-testid=toggle-immutable-rule]').click();
    await row.locator('[data-testid=immutable-rule-state]', { hasText: 'Disabled' }).waitFor();
    assert.equal((await rules())[0]!.disabled, true);
    await row.locator('[data-testid=delete-button]').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await page.locator('[data-testid=immutable-rules]').getByText('No rules').waitFor();
    assert.deepEqual(await rules(), []);
  });

  test('a developer sees retention (tag-retention) but not immutability; a guest sees no Policy tab', async () => {
    for (const [user, role] of [['dev1', 2], ['guest1', 3]] as const) {
      await api.createUser(user);
      await api.addMember(PROJECT, user, role);
    }
    // A fresh context per user: no session or cached permissions carried over.
    const as = async (user: string, f: (p: Page) => Promise<void>) => {
      const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'en-US' });
      try {
        const p = await ctx.newPage();
        p.on('pageerror', (e) => pageErrors.push(String(e)));
        await uiLogin(p, berth.url, user, 'Passw0rd!x');
        await f(p);
      } finally {
        await ctx.close();
      }
    };
    await as('dev1', async (p) => {
      await p.goto(`${berth.url}/projects/${projectId}/policy`);
      await p.locator('[data-testid=retention-rule-text]').first().waitFor();
      await p.locator('[data-testid=retention-run-now]').waitFor();
      assert.equal(await p.locator('[data-testid=immutable-section]').count(), 0);
    });
    await as('guest1', async (p) => {
      await p.goto(`${berth.url}/projects/${projectId}/repositories`);
      await p.getByRole('tab', { name: 'Repositories' }).waitFor();
      assert.equal(await p.getByRole('tab', { name: 'Policy' }).count(), 0);
    });
  });

  test('the tab in 中文', async () => {
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: '简体中文' }).click();
    await page.getByRole('tab', { name: '策略' }).waitFor();
    for (const s of ['Tag 保留', '不可变的 Tag', '运行历史']) await page.getByText(s, { exact: true }).first().waitFor();
    for (const b of ['模拟运行', '立即运行']) await page.getByRole('button', { name: b }).waitFor();
    assert.equal(await page.locator('[data-testid=retention-rule-text]').first().innerText(), '应用到仓库匹配 **，保留最近推送的 1 个 Artifact，基于条件 Tags 匹配 **，包括未加 Tag 的 Artifact');
    await page.locator('[data-testid=add-retention-rule]').click();
    const dialog = page.getByRole('dialog');
    for (const s of ['以 Artifact 数量或天数为条件', '包括未加 Tag 的 Artifact']) await dialog.getByText(s, { exact: true }).first().waitFor();
    await dialog.getByRole('button', { name: /取\s*消/ }).click();
    await page.locator('[data-testid=language-switcher]').click();
    await page.locator('.ant-select-item-option', { hasText: 'English' }).click();
    await page.getByRole('tab', { name: 'Policy' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
