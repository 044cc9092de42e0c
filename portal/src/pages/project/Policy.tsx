// The project's Policy tab as Harbor's portal: tag retention (rules in words, add/edit/enable/disable/delete, the
// schedule, Dry run / Run now, the run history expandable to tasks and their logs) and tag immutability (rules,
// add/edit, enable/disable, delete). The project's `retention_id` metadata names its retention policy; the first
// rule creates the policy (POST /retentions scoped to the project), later changes PUT the whole policy.
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Checkbox, Form, Input, InputNumber, Modal, Select, Space, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, errorText, get } from '../../api/client.ts';
import { DeleteButton, ErrorAlert, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';
import type { ProjectTabProps } from './tab-props.ts';

interface Selector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}
interface Rule {
  id?: number;
  priority: number;
  disabled: boolean;
  action: string;
  template: string;
  params: Record<string, unknown>;
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}
interface RetentionPolicy {
  id: number;
  algorithm: string;
  rules: Rule[];
  trigger: { kind: string; settings: { cron?: string }; references: Record<string, unknown> };
  scope: { level: string; ref: number };
}
interface Metadata {
  templates: { rule_template: string; display_text: string; action: string; params: { type: string; unit: string; required: boolean }[] }[];
}
interface Execution {
  id: number;
  status: string;
  trigger: string;
  dry_run: boolean;
  start_time: string;
  end_time: string;
}
interface RetentionTask {
  id: number;
  repository: string;
  status: string;
  total: number;
  retained: number;
  start_time: string;
  end_time: string;
}
interface ImmutableRule extends Rule {
  id: number;
}
interface RuleForm {
  repoDecoration: string;
  repoPattern: string;
  template: string;
  param?: number;
  tagDecoration: string;
  tagPattern: string;
  untagged: boolean;
}

const time = (s?: string) => (!s || s.startsWith('0001-') ? '—' : formatDate(s));
const STATUS_COLOR: Record<string, string> = { Success: 'green', Succeed: 'green', Error: 'red', Running: 'blue', InProgress: 'blue', Pending: 'default', Stopped: 'orange' };
const Status = ({ s }: { s: string }) => <Tag color={STATUS_COLOR[s] ?? 'default'}>{s}</Tag>;
// Harbor's schedule presets (6-field cron, seconds first).
const PRESETS: Record<string, string> = { hourly: '0 0 * * * *', daily: '0 0 0 * * *', weekly: '0 0 0 * * 0' };
const presetOf = (cron: string) => (cron === '' ? 'none' : (Object.entries(PRESETS).find(([, c]) => c === cron)?.[0] ?? 'custom'));
const duration = (a: string, b: string) => {
  if (!a || !b || b.startsWith('0001-')) return '—';
  const s = Math.max(0, Math.round((Date.parse(b) - Date.parse(a)) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
};
const sel = (list: Selector[] | undefined, decorations: string[]) => list?.find((s) => decorations.includes(s.decoration));
// The single parameter a template takes is keyed by the template name, as Harbor's portal sends it.
const paramOf = (r: Rule) => {
  const v = r.params?.[r.template];
  return typeof v === 'number' ? v : Number(v ?? 0);
};
const hasParam = (template: string) => template !== 'always';
/** Whether a tag selector's rule covers untagged artifacts (the evaluator's defaults: in for matches, out for excludes). */
const untaggedIncluded = (s?: Selector) => {
  const excludes = s?.decoration === 'excludes';
  let flag: boolean | undefined;
  try {
    if (s?.extras) flag = (JSON.parse(s.extras) as { untagged?: boolean }).untagged;
  } catch {
    /* a hand-made extras string: the defaults apply */
  }
  if (flag === undefined) return !excludes;
  return excludes ? !flag : flag;
};

function ruleFromForm(v: RuleForm, base?: Rule): Rule {
  return {
    ...(base?.id !== undefined ? { id: base.id } : {}),
    priority: base?.priority ?? 0,
    disabled: base?.disabled ?? false,
    action: 'retain',
    template: v.template,
    params: hasParam(v.template) ? { [v.template]: v.param ?? 0 } : {},
    // Untagged artifacts go through the tag selector's extras, as Harbor: for `matches` {"untagged":true} includes
    // them, for `excludes` it excludes them too, so the checkbox ("included") is inverted there.
    tag_selectors: [{ kind: 'doublestar', decoration: v.tagDecoration, pattern: v.tagPattern, extras: JSON.stringify({ untagged: v.tagDecoration === 'excludes' ? !v.untagged : v.untagged }) }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: v.repoDecoration, pattern: v.repoPattern }] },
  };
}

export default function Policy(props: ProjectTabProps) {
  const { can } = props;
  return (
    <Space orientation="vertical" style={{ width: '100%' }} size="large">
      {can('tag-retention', 'read') && <Retention {...props} />}
      {can('immutable-tag', 'list') && <Immutability {...props} />}
    </Space>
  );
}

function useRuleText() {
  const { t } = useTranslation();
  return (r: Rule) => {
    const repo = sel(r.scope_selectors?.repository, ['repoMatches', 'repoExcludes']);
    const tag = sel(r.tag_selectors, ['matches', 'excludes']);
    const untagged = untaggedIncluded(tag);
    return t('policy.ruleText', {
      repoVerb: t(repo?.decoration === 'repoExcludes' ? 'policy.repoExcludes' : 'policy.repoMatches'),
      repo: repo?.pattern || '**',
      template: t(`policy.tpl.${r.template}`, { n: paramOf(r) }),
      tagVerb: t(tag?.decoration === 'excludes' ? 'policy.tagExcludes' : 'policy.tagMatches'),
      tag: tag?.pattern || '**',
      untagged: untagged ? t('policy.withUntagged') : t('policy.withoutUntagged'),
    });
  };
}

function Retention({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const text = useRuleText();
  const key = ['retention', project.project_id];
  // The project is re-read: its retention_id changes when the first rule creates the policy.
  const proj = useQuery({ queryKey: [...key, 'project'], queryFn: () => get<ProjectTabProps['project']>(`/projects/${project.project_id}`) });
  const rid = proj.data?.metadata?.retention_id;
  const policy = useQuery({ queryKey: [...key, 'policy', rid], queryFn: () => get<RetentionPolicy>(`/retentions/${rid}`), enabled: !!rid });
  const meta = useQuery({ queryKey: ['retention-metadata'], queryFn: () => get<Metadata>('/retentions/metadatas'), staleTime: 300_000 });
  const [editing, setEditing] = useState<{ index: number | null } | null>(null);
  const [cronEdit, setCronEdit] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const p = rid ? policy.data : undefined;
  const rules = p?.rules ?? [];
  const cron = p?.trigger?.settings?.cron ?? '';
  const mayUpdate = can('tag-retention', 'update');
  const refresh = () => qc.invalidateQueries({ queryKey: key });

  /** Saves the whole policy: POST for a project without one yet, PUT otherwise. */
  const save = async (nextRules: Rule[], nextCron = cron) => {
    const body = { algorithm: 'or', rules: nextRules, trigger: { kind: 'Schedule', settings: { cron: nextCron }, references: {} }, scope: { level: 'project', ref: project.project_id } };
    if (p) await call('PUT', `/retentions/${p.id}`, { body: { ...body, id: p.id } });
    else await call('POST', '/retentions', { body });
    await refresh();
  };
  const act = async (f: () => Promise<void>) => {
    try {
      await f();
      notify.ok();
    } catch (e) {
      notify.fail(e);
    }
  };
  const trigger = async (dryRun: boolean) => {
    if (!p) return;
    setRunning(true);
    try {
      await call('POST', `/retentions/${p.id}/executions`, { body: { dry_run: dryRun } });
      notify.ok(dryRun ? t('policy.dryRunStarted') : t('policy.runStarted'));
      await qc.invalidateQueries({ queryKey: [...key, 'executions'] });
    } catch (e) {
      notify.fail(e);
    } finally {
      setRunning(false);
    }
  };

  return (
    <Card title={t('policy.retention')} data-testid="retention-section" size="small">
      <ErrorAlert error={proj.error ?? policy.error ?? meta.error} />
      <Table<Rule>
        rowKey={(_, i) => String(i)}
        size="small"
        data-testid="retention-rules"
        loading={proj.isFetching || policy.isFetching}
        dataSource={rules}
        pagination={false}
        locale={{ emptyText: t('policy.noRules') }}
        columns={[
          { title: t('policy.rule'), render: (_: unknown, r) => <span data-testid="retention-rule-text">{text(r)}</span> },
          { title: t('policy.state'), render: (_: unknown, r) => <Tag color={r.disabled ? 'default' : 'green'} data-testid="retention-rule-state">{r.disabled ? t('policy.disabled') : t('policy.enabled')}</Tag> },
          ...(mayUpdate
            ? [
                {
                  title: t('common.actions'),
                  key: 'a',
                  render: (_: unknown, r: Rule, i: number) => (
                    <Space>
                      <Button size="small" onClick={() => setEditing({ index: i })} data-testid="edit-retention-rule">
                        {t('policy.edit')}
                      </Button>
                      <Button size="small" onClick={() => act(() => save(rules.map((x, j) => (j === i ? { ...x, disabled: !x.disabled } : x))))} data-testid="toggle-retention-rule">
                        {r.disabled ? t('policy.enable') : t('policy.disable')}
                      </Button>
                      <DeleteButton onConfirm={() => act(() => save(rules.filter((_, j) => j !== i)))} />
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Space wrap style={{ marginTop: 12 }}>
        {mayUpdate && (
          <Button icon={<PlusOutlined />} onClick={() => setEditing({ index: null })} disabled={rules.length >= 15} data-testid="add-retention-rule">
            {t('policy.addRule')}
          </Button>
        )}
        <span>
          {t('policy.schedule')}: <b data-testid="retention-schedule">{t(`policy.sched.${presetOf(cron)}`)}</b>
          {presetOf(cron) === 'custom' ? <code> {cron}</code> : null}
        </span>
        {mayUpdate && p && (
          <Button size="small" onClick={() => setCronEdit(cron)} data-testid="edit-retention-schedule">
            {t('policy.edit')}
          </Button>
        )}
        {mayUpdate && (
          <>
            <Button onClick={() => void trigger(true)} disabled={!p || rules.length === 0} loading={running} data-testid="retention-dry-run">
              {t('policy.dryRun')}
            </Button>
            <Button type="primary" onClick={() => void trigger(false)} disabled={!p || rules.length === 0} loading={running} data-testid="retention-run-now">
              {t('policy.runNow')}
            </Button>
          </>
        )}
      </Space>
      {p && <Executions policyId={p.id} queryKey={[...key, 'executions']} mayStop={mayUpdate} />}
      {editing && (
        <RetentionRuleDialog
          rule={editing.index === null ? null : rules[editing.index]!}
          meta={meta.data}
          onClose={() => setEditing(null)}
          onSave={async (r) => {
            await save(editing.index === null ? [...rules, r] : rules.map((x, j) => (j === editing.index ? r : x)));
            setEditing(null);
            notify.ok();
          }}
        />
      )}
      {cronEdit !== null && (
        <ScheduleDialog
          cron={cronEdit}
          onClose={() => setCronEdit(null)}
          onSave={async (c) => {
            await save(rules, c);
            setCronEdit(null);
            notify.ok();
          }}
        />
      )}
    </Card>
  );
}

function RetentionRuleDialog({ rule, meta, onClose, onSave }: { rule: Rule | null; meta?: Metadata; onClose: () => void; onSave: (r: Rule) => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<RuleForm>();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const template = Form.useWatch('template', form) ?? rule?.template ?? 'latestPushedK';
  const repo = sel(rule?.scope_selectors?.repository, ['repoMatches', 'repoExcludes']);
  const tag = sel(rule?.tag_selectors, ['matches', 'excludes']);
  const untagged = rule ? untaggedIncluded(tag) : true;
  const templates = meta?.templates ?? [];
  const unit = templates.find((x) => x.rule_template === template)?.params[0]?.unit;

  const submit = async () => {
    const v = await form.validateFields();
    setSaving(true);
    setError(null);
    try {
      await onSave(ruleFromForm(v, rule ?? undefined));
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open width={640} title={rule ? t('policy.editRule') : t('policy.addRule')} okText={rule ? t('common.save') : t('policy.add')} cancelText={t('common.cancel')} confirmLoading={saving} onOk={submit} onCancel={onClose} destroyOnHidden>
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="retention-rule-error" /> : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{
          repoDecoration: repo?.decoration ?? 'repoMatches',
          repoPattern: repo?.pattern ?? '**',
          template: rule?.template ?? 'latestPushedK',
          param: rule ? paramOf(rule) : 10,
          tagDecoration: tag?.decoration ?? 'matches',
          tagPattern: tag?.pattern ?? '**',
          untagged,
        }}
      >
        <Form.Item label={t('policy.repositories')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="repoDecoration" noStyle>
              <Select id="retention-repo-decoration" style={{ width: 160 }} options={[{ value: 'repoMatches', label: t('policy.matching') }, { value: 'repoExcludes', label: t('policy.excluding') }]} />
            </Form.Item>
            <Form.Item name="repoPattern" noStyle rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
              <Input id="retention-repo-pattern" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item label={t('policy.byArtifactCount')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="template" noStyle>
              <Select id="retention-template" data-testid="retention-template" style={{ width: 360 }} options={templates.map((x) => ({ value: x.rule_template, label: t(`policy.tplName.${x.rule_template}`) }))} />
            </Form.Item>
            {hasParam(template) && (
              <Form.Item name="param" noStyle rules={[{ required: true, message: t('validation.required') }]}>
                <InputNumber id="retention-param" min={0} precision={0} suffix={unit === 'DAYS' ? t('policy.days') : t('policy.count')} />
              </Form.Item>
            )}
          </Space.Compact>
        </Form.Item>
        <Form.Item label={t('policy.tags')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="tagDecoration" noStyle>
              <Select id="retention-tag-decoration" style={{ width: 160 }} options={[{ value: 'matches', label: t('policy.matching') }, { value: 'excludes', label: t('policy.excluding') }]} />
            </Form.Item>
            <Form.Item name="tagPattern" noStyle rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
              <Input id="retention-tag-pattern" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="untagged" valuePropName="checked">
          <Checkbox id="retention-untagged">{t('policy.includeUntagged')}</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  );
}

function ScheduleDialog({ cron, onClose, onSave }: { cron: string; onClose: () => void; onSave: (c: string) => Promise<void> }) {
  const { t } = useTranslation();
  const [preset, setPreset] = useState(presetOf(cron));
  const [custom, setCustom] = useState(presetOf(cron) === 'custom' ? cron : '');
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const submit = async () => {
    setSaving(true);
    setError(null);
    try {
      await onSave(preset === 'none' ? '' : preset === 'custom' ? custom.trim() : PRESETS[preset]!);
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open title={t('policy.schedule')} okText={t('common.save')} cancelText={t('common.cancel')} confirmLoading={saving} onOk={submit} onCancel={onClose} destroyOnHidden>
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="retention-schedule-error" /> : null}
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Select id="retention-schedule-preset" value={preset} onChange={setPreset} style={{ width: 200 }} options={['none', 'hourly', 'daily', 'weekly', 'custom'].map((k) => ({ value: k, label: t(`policy.sched.${k}`) }))} />
        {preset === 'custom' && <Input id="retention-cron" value={custom} onChange={(e) => setCustom(e.target.value)} placeholder="0 0 3 * * *" />}
        {preset === 'custom' && <span style={{ color: '#888' }}>{t('policy.cronHint')}</span>}
      </Space>
    </Modal>
  );
}

function Executions({ policyId, queryKey, mayStop }: { policyId: number; queryKey: unknown[]; mayStop: boolean }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const base = `/retentions/${policyId}/executions`;
  const list = usePaged<Execution>(queryKey, base, {}, 10);
  // While a run is pending or running the history refreshes itself, so its final status appears without a click.
  const active = list.rows.some((e) => e.status === 'Running' || e.status === 'Pending');
  const { refetch } = list.query;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void refetch(), 2000);
    return () => clearInterval(timer);
  }, [active, refetch]);
  const stop = async (e: Execution) => {
    try {
      await call('PATCH', `${base}/${e.id}`, { body: { action: 'stop' } });
      notify.ok();
      await list.query.refetch();
    } catch (err) {
      notify.fail(err);
    }
  };
  return (
    <>
      <ErrorAlert error={list.query.error} />
      <Table<Execution>
        size="small"
        rowKey="id"
        style={{ marginTop: 12 }}
        data-testid="retention-executions"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('policy.noExecutions') }}
        expandable={{ expandedRowRender: (e) => <Tasks base={`${base}/${e.id}`} /> }}
        title={() => (
          <Space>
            <b>{t('policy.history')}</b>
            <Button size="small" onClick={() => void list.query.refetch()} data-testid="refresh-retention-executions">
              {t('common.refresh')}
            </Button>
          </Space>
        )}
        columns={[
          { title: t('policy.id'), dataIndex: 'id' },
          { title: t('policy.status'), render: (_: unknown, e) => <Status s={e.status} /> },
          { title: t('policy.dryRunCol'), render: (_: unknown, e) => (e.dry_run ? t('policy.yes') : t('policy.no')) },
          { title: t('policy.trigger'), dataIndex: 'trigger' },
          { title: t('policy.startTime'), render: (_: unknown, e) => time(e.start_time) },
          { title: t('policy.duration'), render: (_: unknown, e) => duration(e.start_time, e.end_time) },
          ...(mayStop
            ? [
                {
                  title: t('common.actions'),
                  key: 'a',
                  render: (_: unknown, e: Execution) =>
                    e.status === 'Running' || e.status === 'Pending' ? (
                      <Button size="small" onClick={() => void stop(e)} data-testid="stop-retention-execution">
                        {t('policy.stop')}
                      </Button>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
    </>
  );
}

function Tasks({ base }: { base: string }) {
  const { t } = useTranslation();
  const list = usePaged<RetentionTask>(['retention-tasks', base], `${base}/tasks`, {}, 10);
  const [log, setLog] = useState<{ id: number; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = async (id: number) => {
    try {
      setError(null);
      const r = await call<string>('GET', `${base}/tasks/${id}`, { text: true });
      setLog({ id, text: r.data });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <ErrorAlert error={list.query.error ?? error} />
      <Table<RetentionTask>
        size="small"
        rowKey="id"
        data-testid="retention-tasks"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={false}
        columns={[
          { title: t('policy.repository'), dataIndex: 'repository' },
          { title: t('policy.status'), render: (_: unknown, x) => <Status s={x.status} /> },
          { title: t('policy.retained'), render: (_: unknown, x) => `${x.retained}/${x.total}` },
          { title: t('policy.startTime'), render: (_: unknown, x) => time(x.start_time) },
          { title: t('policy.duration'), render: (_: unknown, x) => duration(x.start_time, x.end_time) },
          {
            title: t('policy.log'),
            render: (_: unknown, x) => (
              <Button size="small" onClick={() => void open(x.id)} data-testid="retention-task-log-button">
                {t('policy.viewLog')}
              </Button>
            ),
          },
        ]}
      />
      <Modal open={log !== null} width={900} title={t('policy.logTitle', { id: log?.id })} footer={null} onCancel={() => setLog(null)}>
        <pre style={{ maxHeight: 480, overflow: 'auto', fontSize: 12, whiteSpace: 'pre-wrap' }} data-testid="retention-task-log">
          {log?.text}
        </pre>
      </Modal>
    </>
  );
}

function Immutability({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const base = `/projects/${project.project_id}/immutabletagrules`;
  const list = usePaged<ImmutableRule>(['immutable', project.project_id], base);
  const [editing, setEditing] = useState<ImmutableRule | 'new' | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['immutable', project.project_id] });
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      notify.ok();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const pattern = (s?: Selector) => (s ? `${s.decoration === 'repoExcludes' || s.decoration === 'excludes' ? t('policy.excluding') : t('policy.matching')} ${s.pattern}` : '');
  return (
    <Card title={t('policy.immutability')} data-testid="immutable-section" size="small">
      {can('immutable-tag', 'create') && (
        <Button icon={<PlusOutlined />} onClick={() => setEditing('new')} style={{ marginBottom: 12 }} data-testid="add-immutable-rule">
          {t('policy.addRule')}
        </Button>
      )}
      <ErrorAlert error={list.query.error} />
      <Table<ImmutableRule>
        rowKey="id"
        size="small"
        data-testid="immutable-rules"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('policy.noRules') }}
        columns={[
          { title: t('policy.repositories'), render: (_: unknown, r) => pattern(sel(r.scope_selectors?.repository, ['repoMatches', 'repoExcludes'])) },
          { title: t('policy.tags'), render: (_: unknown, r) => pattern(sel(r.tag_selectors, ['matches', 'excludes'])) },
          { title: t('policy.state'), render: (_: unknown, r) => <Tag color={r.disabled ? 'default' : 'green'} data-testid="immutable-rule-state">{r.disabled ? t('policy.disabled') : t('policy.enabled')}</Tag> },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_: unknown, r: ImmutableRule) => (
              <Space>
                {can('immutable-tag', 'update') && (
                  <>
                    <Button size="small" onClick={() => setEditing(r)} data-testid="edit-immutable-rule">
                      {t('policy.edit')}
                    </Button>
                    <Button size="small" onClick={() => act(() => call('PUT', `${base}/${r.id}`, { body: { ...r, disabled: !r.disabled } }))} data-testid="toggle-immutable-rule">
                      {r.disabled ? t('policy.enable') : t('policy.disable')}
                    </Button>
                  </>
                )}
                {can('immutable-tag', 'delete') && <DeleteButton onConfirm={() => act(() => call('DELETE', `${base}/${r.id}`))} />}
              </Space>
            ),
          },
        ]}
      />
      {editing !== null && (
        <ImmutableDialog
          rule={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSave={async (body) => {
            if (editing === 'new') await call('POST', base, { body });
            else await call('PUT', `${base}/${editing.id}`, { body: { ...body, id: editing.id } });
            setEditing(null);
            notify.ok();
            await refresh();
          }}
        />
      )}
    </Card>
  );
}

function ImmutableDialog({ rule, onClose, onSave }: { rule: ImmutableRule | null; onClose: () => void; onSave: (r: Rule) => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<Pick<RuleForm, 'repoDecoration' | 'repoPattern' | 'tagDecoration' | 'tagPattern'>>();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const repo = sel(rule?.scope_selectors?.repository, ['repoMatches', 'repoExcludes']);
  const tag = sel(rule?.tag_selectors, ['matches', 'excludes']);
  const submit = async () => {
    const v = await form.validateFields();
    setSaving(true);
    setError(null);
    try {
      await onSave({
        priority: rule?.priority ?? 0,
        disabled: rule?.disabled ?? false,
        action: 'immutable',
        template: 'immutable_template',
        params: {},
        tag_selectors: [{ kind: 'doublestar', decoration: v.tagDecoration, pattern: v.tagPattern }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: v.repoDecoration, pattern: v.repoPattern }] },
      });
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open width={600} title={rule ? t('policy.editRule') : t('policy.addRule')} okText={rule ? t('common.save') : t('policy.add')} cancelText={t('common.cancel')} confirmLoading={saving} onOk={submit} onCancel={onClose} destroyOnHidden>
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="immutable-rule-error" /> : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ repoDecoration: repo?.decoration ?? 'repoMatches', repoPattern: repo?.pattern ?? '**', tagDecoration: tag?.decoration ?? 'matches', tagPattern: tag?.pattern ?? '**' }}
      >
        <Form.Item label={t('policy.repositories')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="repoDecoration" noStyle>
              <Select id="immutable-repo-decoration" style={{ width: 160 }} options={[{ value: 'repoMatches', label: t('policy.matching') }, { value: 'repoExcludes', label: t('policy.excluding') }]} />
            </Form.Item>
            <Form.Item name="repoPattern" noStyle rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
              <Input id="immutable-repo-pattern" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item label={t('policy.tags')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="tagDecoration" noStyle>
              <Select id="immutable-tag-decoration" style={{ width: 160 }} options={[{ value: 'matches', label: t('policy.matching') }, { value: 'excludes', label: t('policy.excluding') }]} />
            </Form.Item>
            <Form.Item name="tagPattern" noStyle rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
              <Input id="immutable-tag-pattern" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
      </Form>
    </Modal>
  );
}
