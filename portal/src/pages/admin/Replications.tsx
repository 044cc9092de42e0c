// Replication rules (system admins), as Harbor's portal: policies (name, enabled, source/destination registry,
// trigger, description), a New rule dialog (push or pull, the remote endpoint, name and tag filters, destination
// namespace and flattening, manual/scheduled/event trigger, override, deletion, bandwidth), Replicate (starts an
// execution), delete; below, the executions (status, trigger, times, success rate) with Stop, each expanding to its
// tasks, and a task's log in a modal.
import { useState } from 'react';
import { Alert, Button, Form, Input, InputNumber, Modal, Radio, Select, Space, Switch, Table, Tag } from 'antd';
import { PlayCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, errorText, get } from '../../api/client.ts';
import type { RegistryEndpoint } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

// Berth's document declares these replication bodies without a schema, so they are written here from Harbor's
// swagger (ReplicationPolicy, ReplicationExecution, ReplicationTask).
interface PolicyRegistry {
  id: number;
  name?: string;
  url?: string;
}
interface ReplicationPolicy {
  id: number;
  name: string;
  description?: string;
  enabled: boolean;
  src_registry?: PolicyRegistry | null;
  dest_registry?: PolicyRegistry | null;
  trigger?: { type?: string; trigger_settings?: { cron?: string } } | null;
}
interface ReplicationExecution {
  id: number;
  status: string;
  trigger: string;
  start_time: string;
  end_time?: string;
  total?: number;
  succeed?: number;
  failed?: number;
}
interface ReplicationTask {
  id: number;
  status: string;
  resource_type?: string;
  src_resource?: string;
  dst_resource?: string;
  operation?: string;
  start_time: string;
  end_time?: string;
}
interface FormValues {
  name: string;
  description?: string;
  mode: 'push' | 'pull';
  registry: number;
  name_filter?: string;
  tag_filter?: string;
  tag_decoration: 'matches' | 'excludes';
  dest_namespace?: string;
  replace_count: number;
  trigger: 'manual' | 'scheduled' | 'event_based';
  cron?: string;
  override: boolean;
  replicate_deletion: boolean;
  enabled: boolean;
  speed: number;
}

// Go's zero time is what the server sends for "not ended yet".
const time = (s?: string) => (!s || s.startsWith('0001-') ? '—' : formatDate(s));
const STATUS_COLOR: Record<string, string> = { Succeed: 'green', Failed: 'red', InProgress: 'blue', Pending: 'default', Stopped: 'orange' };
const Status = ({ s }: { s?: string }) => <Tag color={STATUS_COLOR[s ?? ''] ?? 'default'}>{s}</Tag>;

export default function Replications() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [creating, setCreating] = useState(false);
  const list = usePaged<ReplicationPolicy>(['replication', 'policies'], '/replication/policies', { sort: '-creation_time' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['replication'] });
  const registryName = (r?: ReplicationPolicy['src_registry']) => (r ? `${r.name ?? ''}${r.url ? ` (${r.url})` : ''}` : t('replications.local'));
  const replicate = async (p: ReplicationPolicy) => {
    try {
      await call('POST', '/replication/executions', { body: { policy_id: p.id } });
      notify.ok(t('replications.started'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const remove = async (p: ReplicationPolicy) => {
    try {
      await call('DELETE', `/replication/policies/${p.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  return (
    <>
      <PageTitle>{t('replications.title')}</PageTitle>
      <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ marginBottom: 12 }} data-testid="new-replication">
        {t('replications.new')}
      </Button>
      <ErrorAlert error={list.query.error} />
      <Table<ReplicationPolicy>
        rowKey="id"
        data-testid="replications-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('replications.empty') }}
        columns={[
          { title: t('replications.name'), dataIndex: 'name' },
          { title: t('replications.status'), render: (_: unknown, p) => <Tag color={p.enabled ? 'green' : 'default'}>{p.enabled ? t('replications.enabled') : t('replications.disabled')}</Tag> },
          { title: t('replications.source'), render: (_: unknown, p) => registryName(p.src_registry ?? undefined) },
          { title: t('replications.destination'), render: (_: unknown, p) => registryName(p.dest_registry ?? undefined) },
          { title: t('replications.trigger'), render: (_: unknown, p) => t(`replications.triggers.${p.trigger?.type ?? 'manual'}`) + (p.trigger?.trigger_settings?.cron ? ` (${p.trigger.trigger_settings.cron})` : '') },
          { title: t('common.description'), dataIndex: 'description' },
          {
            title: t('common.actions'),
            render: (_: unknown, p) => (
              <Space>
                <Button size="small" icon={<PlayCircleOutlined />} onClick={() => void replicate(p)} disabled={!p.enabled} data-testid="replicate">
                  {t('replications.replicate')}
                </Button>
                <DeleteButton onConfirm={() => remove(p)} />
              </Space>
            ),
          },
        ]}
      />
      <Executions />
      {creating && (
        <PolicyDialog
          onClose={() => setCreating(false)}
          onSaved={async () => {
            setCreating(false);
            notify.ok();
            await refresh();
          }}
        />
      )}
    </>
  );
}

function PolicyDialog({ onClose, onSaved }: { onClose: () => void; onSaved: () => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<FormValues>();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const registries = useQuery({ queryKey: ['registries', 'all'], queryFn: () => get<RegistryEndpoint[]>('/registries', { page_size: 100 }) });
  const mode = Form.useWatch('mode', form) ?? 'push';
  const trigger = Form.useWatch('trigger', form) ?? 'manual';

  const save = async () => {
    const v = await form.validateFields();
    const filters = [
      ...(v.name_filter?.trim() ? [{ type: 'name', value: v.name_filter.trim() }] : []),
      ...(v.tag_filter?.trim() ? [{ type: 'tag', value: v.tag_filter.trim(), decoration: v.tag_decoration }] : []),
    ];
    const body = {
      name: v.name.trim(),
      description: v.description ?? '',
      // Push: local → the endpoint; pull: the endpoint → local. The other side stays null (Harbor's rule).
      ...(v.mode === 'push' ? { dest_registry: { id: v.registry } } : { src_registry: { id: v.registry } }),
      dest_namespace: v.dest_namespace?.trim() ?? '',
      dest_namespace_replace_count: v.replace_count,
      filters,
      trigger: { type: v.trigger, trigger_settings: { cron: v.trigger === 'scheduled' ? (v.cron ?? '').trim() : '' } },
      override: v.override,
      replicate_deletion: v.replicate_deletion,
      enabled: v.enabled,
      speed: v.speed,
    };
    setSaving(true);
    setError(null);
    try {
      await call('POST', '/replication/policies', { body });
      await onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open width={680} title={t('replications.new')} okText={t('common.create')} cancelText={t('common.cancel')} confirmLoading={saving} onOk={save} onCancel={onClose} destroyOnHidden>
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="replication-error" /> : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ mode: 'push', tag_decoration: 'matches', replace_count: -1, trigger: 'manual', override: true, replicate_deletion: false, enabled: true, speed: -1 }}
      >
        <Form.Item name="name" label={t('replications.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input id="replication-name" autoFocus />
        </Form.Item>
        <Form.Item name="description" label={t('common.description')}>
          <Input.TextArea id="replication-description" rows={2} />
        </Form.Item>
        <Form.Item name="mode" label={t('replications.mode')}>
          <Radio.Group
            options={[
              { value: 'push', label: t('replications.push') },
              { value: 'pull', label: t('replications.pull') },
            ]}
          />
        </Form.Item>
        <Form.Item name="registry" label={mode === 'push' ? t('replications.destRegistry') : t('replications.srcRegistry')} rules={[{ required: true, message: t('validation.required') }]}>
          <Select id="replication-registry" options={(registries.data ?? []).map((r) => ({ value: r.id, label: `${r.name} (${r.url})` }))} />
        </Form.Item>
        <Form.Item name="name_filter" label={t('replications.nameFilter')} extra={t('replications.nameFilterHint')}>
          <Input id="replication-name-filter" placeholder="library/**" />
        </Form.Item>
        <Form.Item label={t('replications.tagFilter')} extra={t('replications.tagFilterHint')}>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name="tag_decoration" noStyle>
              <Select
                id="replication-tag-decoration"
                style={{ width: 140 }}
                options={[
                  { value: 'matches', label: t('replications.matches') },
                  { value: 'excludes', label: t('replications.excludes') },
                ]}
              />
            </Form.Item>
            <Form.Item name="tag_filter" noStyle>
              <Input id="replication-tag-filter" placeholder="v*" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="dest_namespace" label={t('replications.destNamespace')} extra={t('replications.destNamespaceHint')}>
          <Input id="replication-dest-namespace" />
        </Form.Item>
        <Form.Item name="replace_count" label={t('replications.flattening')}>
          <Select
            id="replication-flattening"
            options={[
              { value: -1, label: t('replications.flatten.none') },
              { value: 0, label: t('replications.flatten.all') },
              { value: 1, label: t('replications.flatten.levels', { count: 1 }) },
              { value: 2, label: t('replications.flatten.levels', { count: 2 }) },
              { value: 3, label: t('replications.flatten.levels', { count: 3 }) },
            ]}
          />
        </Form.Item>
        <Form.Item name="trigger" label={t('replications.triggerMode')}>
          <Radio.Group
            options={(['manual', 'scheduled', 'event_based'] as const).map((x) => ({ value: x, label: t(`replications.triggers.${x}`) }))}
          />
        </Form.Item>
        {trigger === 'scheduled' && (
          <Form.Item name="cron" label={t('replications.cron')} extra={t('replications.cronHint')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
            <Input id="replication-cron" placeholder="0 0 3 * * *" />
          </Form.Item>
        )}
        <Form.Item name="speed" label={t('replications.speed')} extra={t('replications.speedHint')}>
          <InputNumber id="replication-speed" min={-1} />
        </Form.Item>
        <Space size="large" wrap>
          <Form.Item name="override" label={t('replications.override')} valuePropName="checked">
            <Switch id="replication-override" />
          </Form.Item>
          <Form.Item name="replicate_deletion" label={t('replications.replicateDeletion')} valuePropName="checked">
            <Switch id="replication-deletion" />
          </Form.Item>
          <Form.Item name="enabled" label={t('replications.enabled')} valuePropName="checked">
            <Switch id="replication-enabled" />
          </Form.Item>
        </Space>
      </Form>
    </Modal>
  );
}

function Executions() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const list = usePaged<ReplicationExecution>(['replication', 'executions'], '/replication/executions', { sort: '-start_time' }, 10);
  const stop = async (e: ReplicationExecution) => {
    try {
      await call('PUT', `/replication/executions/${e.id}`);
      notify.ok(t('replications.stopping'));
      await qc.invalidateQueries({ queryKey: ['replication', 'executions'] });
    } catch (err) {
      notify.fail(err);
    }
  };
  const rate = (e: ReplicationExecution) => (e.total ? `${Math.round(((e.succeed ?? 0) * 100) / e.total)}%` : '—');
  return (
    <>
      <ErrorAlert error={list.query.error} />
      <Table<ReplicationExecution>
        rowKey="id"
        size="small"
        style={{ marginTop: 24 }}
        data-testid="replication-executions"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('replications.noExecutions') }}
        expandable={{ expandedRowRender: (e) => <Tasks id={e.id} /> }}
        title={() => (
          <Space>
            <b>{t('replications.executions')}</b>
            <Button size="small" onClick={() => void list.query.refetch()} data-testid="refresh-executions">
              {t('common.refresh')}
            </Button>
          </Space>
        )}
        columns={[
          { title: t('replications.id'), dataIndex: 'id' },
          { title: t('replications.status'), render: (_: unknown, e) => <Status s={e.status} /> },
          { title: t('replications.trigger'), render: (_: unknown, e) => t(`replications.triggers.${e.trigger ?? 'manual'}`, { defaultValue: e.trigger }) },
          { title: t('replications.startTime'), render: (_: unknown, e) => time(e.start_time) },
          { title: t('replications.endTime'), render: (_: unknown, e) => time(e.end_time) },
          { title: t('replications.successRate'), render: (_: unknown, e) => <span data-testid="success-rate">{rate(e)}</span> },
          { title: t('replications.counts'), render: (_: unknown, e) => t('replications.countsText', { total: e.total ?? 0, succeed: e.succeed ?? 0, failed: e.failed ?? 0 }) },
          {
            title: t('common.actions'),
            render: (_: unknown, e) =>
              e.status === 'InProgress' ? (
                <Button size="small" danger onClick={() => void stop(e)} data-testid="stop-execution">
                  {t('replications.stop')}
                </Button>
              ) : null,
          },
        ]}
      />
    </>
  );
}

function Tasks({ id }: { id: number }) {
  const { t } = useTranslation();
  const base = `/replication/executions/${id}`;
  const list = usePaged<ReplicationTask>(['replication', 'executions', id, 'tasks'], `${base}/tasks`, {}, 10);
  const [log, setLog] = useState<{ id: number; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = async (tid: number) => {
    try {
      setError(null);
      const r = await call<string>('GET', `${base}/tasks/${tid}/log`, { text: true });
      setLog({ id: tid, text: r.data });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <ErrorAlert error={list.query.error ?? error} />
      <Table<ReplicationTask>
        size="small"
        rowKey="id"
        data-testid="replication-tasks"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('replications.resourceType'), dataIndex: 'resource_type' },
          { title: t('replications.srcResource'), dataIndex: 'src_resource' },
          { title: t('replications.dstResource'), dataIndex: 'dst_resource' },
          { title: t('replications.operation'), dataIndex: 'operation' },
          { title: t('replications.status'), render: (_: unknown, x) => <Status s={x.status} /> },
          { title: t('replications.startTime'), render: (_: unknown, x) => time(x.start_time) },
          { title: t('replications.endTime'), render: (_: unknown, x) => time(x.end_time) },
          {
            title: t('replications.log'),
            render: (_: unknown, x) => (
              <Button size="small" onClick={() => void open(x.id)} data-testid="replication-task-log-button">
                {t('replications.viewLog')}
              </Button>
            ),
          },
        ]}
      />
      <Modal open={log !== null} width={800} title={t('replications.logTitle', { id: log?.id })} footer={null} onCancel={() => setLog(null)}>
        <pre style={{ maxHeight: 480, overflow: 'auto', fontSize: 12, whiteSpace: 'pre-wrap' }} data-testid="replication-task-log">
          {log?.text}
        </pre>
      </Modal>
    </>
  );
}
