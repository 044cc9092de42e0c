// Project webhooks as Harbor's portal: policies (name, enabled, notify type, target, event types, last trigger,
// created), a create/edit dialog (http or slack, Default or CloudEvents payloads for http, auth header, certificate
// check, event types from /webhook/events), enable/disable, delete; each policy expands to its executions, each
// execution to its tasks, and a task's log opens in a modal. Writes need notification-policy:create/update/delete.
import { useState } from 'react';
import { Alert, Button, Checkbox, Form, Input, Modal, Radio, Space, Switch, Table, Tag } from 'antd';
import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, errorText, get } from '../../api/client.ts';
import { DeleteButton, ErrorAlert, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';
import type { ProjectTabProps } from './tab-props.ts';

interface Target {
  type: string;
  address: string;
  auth_header?: string;
  skip_cert_verify?: boolean;
  payload_format?: string;
}
interface Policy {
  id: number;
  name: string;
  description?: string;
  targets: Target[];
  event_types: string[];
  creator?: string;
  creation_time?: string;
  enabled: boolean;
}
interface SupportedEvents {
  event_type: string[];
  notify_type: string[];
  payload_formats?: { notify_type: string; formats: string[] }[];
}
interface LastTrigger {
  policy_name: string;
  last_trigger_time?: string;
}
interface Execution {
  id: number;
  status: string;
  trigger: string;
  start_time: string;
  end_time: string;
  extra_attrs?: { event_type?: string };
}
interface Task {
  id: number;
  status: string;
  run_count?: number;
  start_time: string;
  end_time: string;
}
interface FormValues {
  name: string;
  description?: string;
  type: string;
  payload_format: string;
  address: string;
  auth_header?: string;
  skip_cert_verify: boolean;
  event_types: string[];
}

// Go's zero time is what the server sends for "not ended yet".
const time = (s?: string) => (!s || s.startsWith('0001-') ? '—' : formatDate(s));
const STATUS_COLOR: Record<string, string> = { Success: 'green', Error: 'red', Running: 'blue', Pending: 'default', Stopped: 'orange' };
const Status = ({ s }: { s: string }) => <Tag color={STATUS_COLOR[s] ?? 'default'}>{s}</Tag>;

export default function Webhooks({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const base = `/projects/${project.project_id}/webhook`;
  const [editing, setEditing] = useState<Policy | 'new' | null>(null);
  const list = usePaged<Policy>(['webhooks', project.project_id], `${base}/policies`);
  const events = useQuery({ queryKey: ['webhook-events', project.project_id], queryFn: () => get<SupportedEvents>(`${base}/events`), staleTime: 300_000 });
  const last = useQuery({ queryKey: ['webhooks', project.project_id, 'last'], queryFn: () => get<LastTrigger[]>(`${base}/lasttrigger`) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['webhooks', project.project_id] });
  // lasttrigger has one row per policy and event type; the policy's last trigger is the latest of them.
  const lastOf = (name: string) =>
    (last.data ?? [])
      .filter((l) => l.policy_name === name && l.last_trigger_time)
      .map((l) => l.last_trigger_time!)
      .sort()
      .pop();

  const setEnabled = async (p: Policy, enabled: boolean) => {
    try {
      await call('PUT', `${base}/policies/${p.id}`, { body: { ...p, enabled } });
      notify.ok(enabled ? t('webhooks.enabledNow') : t('webhooks.disabledNow'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const remove = async (p: Policy) => {
    try {
      await call('DELETE', `${base}/policies/${p.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      {can('notification-policy', 'create') && (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} style={{ marginBottom: 12 }} data-testid="new-webhook">
          {t('webhooks.new')}
        </Button>
      )}
      <ErrorAlert error={list.query.error} />
      <Table<Policy>
        rowKey="id"
        data-testid="webhooks-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        expandable={{ expandedRowRender: (p) => <Executions base={`${base}/policies/${p.id}`} /> }}
        columns={[
          { title: t('webhooks.name'), dataIndex: 'name' },
          {
            title: t('webhooks.enabled'),
            render: (_: unknown, p) => (
              <Tag color={p.enabled ? 'green' : 'default'} data-testid="webhook-state">
                {p.enabled ? t('webhooks.on') : t('webhooks.off')}
              </Tag>
            ),
          },
          { title: t('webhooks.notifyType'), render: (_: unknown, p) => p.targets[0]?.type ?? '' },
          { title: t('webhooks.address'), render: (_: unknown, p) => p.targets[0]?.address ?? '' },
          { title: t('webhooks.eventTypes'), render: (_: unknown, p) => p.event_types.map((e) => <Tag key={e}>{e}</Tag>) },
          { title: t('webhooks.lastTrigger'), render: (_: unknown, p) => time(lastOf(p.name)) },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_: unknown, p: Policy) => (
              <Space>
                {can('notification-policy', 'update') && (
                  <>
                    <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(p)} data-testid="edit-webhook">
                      {t('webhooks.edit')}
                    </Button>
                    <Button size="small" onClick={() => setEnabled(p, !p.enabled)} data-testid="toggle-webhook">
                      {p.enabled ? t('webhooks.disable') : t('webhooks.enable')}
                    </Button>
                  </>
                )}
                {can('notification-policy', 'delete') && <DeleteButton onConfirm={() => remove(p)} />}
              </Space>
            ),
          },
        ]}
      />
      {editing !== null && (
        <PolicyDialog
          base={base}
          policy={editing === 'new' ? null : editing}
          events={events.data}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            notify.ok();
            await refresh();
          }}
        />
      )}
    </>
  );
}

function PolicyDialog({ base, policy, events, onClose, onSaved }: { base: string; policy: Policy | null; events?: SupportedEvents; onClose: () => void; onSaved: () => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<FormValues>();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const type = Form.useWatch('type', form) ?? policy?.targets[0]?.type ?? 'http';
  const target = policy?.targets[0];
  const formatsOf = (nt: string) => events?.payload_formats?.find((f) => f.notify_type === nt)?.formats ?? (nt === 'http' ? ['Default', 'CloudEvents'] : []);

  const save = async () => {
    const v = await form.validateFields();
    const body = {
      name: v.name.trim(),
      description: v.description ?? '',
      enabled: policy?.enabled ?? true,
      event_types: v.event_types,
      targets: [{ type: v.type, address: v.address.trim(), auth_header: v.auth_header ?? '', skip_cert_verify: !v.skip_cert_verify, ...(v.type === 'http' ? { payload_format: v.payload_format } : {}) }],
    };
    setSaving(true);
    setError(null);
    try {
      if (policy) await call('PUT', `${base}/policies/${policy.id}`, { body: { ...body, id: policy.id } });
      else await call('POST', `${base}/policies`, { body });
      await onSaved();
    } catch (e) {
      // Shown in the dialog, which stays open: the SSRF guard's refusal, a duplicate name, a bad URL.
      setError(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open
      width={640}
      title={policy ? t('webhooks.editTitle') : t('webhooks.new')}
      okText={policy ? t('common.save') : t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={saving}
      onOk={save}
      onCancel={onClose}
      destroyOnHidden
    >
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="webhook-error" /> : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{
          name: policy?.name ?? '',
          description: policy?.description ?? '',
          type: target?.type ?? 'http',
          payload_format: target?.payload_format || 'Default',
          address: target?.address ?? '',
          auth_header: target?.auth_header ?? '',
          // The form asks "verify the remote certificate", the API stores the opposite.
          skip_cert_verify: !(target?.skip_cert_verify ?? false),
          event_types: policy?.event_types ?? events?.event_type ?? [],
        }}
      >
        <Form.Item name="name" label={t('webhooks.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }, { max: 256 }]}>
          <Input id="webhook-name" autoFocus />
        </Form.Item>
        <Form.Item name="description" label={t('common.description')}>
          <Input.TextArea id="webhook-description" rows={2} />
        </Form.Item>
        <Form.Item name="type" label={t('webhooks.notifyType')}>
          <Radio.Group options={(events?.notify_type ?? ['http', 'slack']).map((n) => ({ value: n, label: n }))} />
        </Form.Item>
        {type === 'http' && (
          <Form.Item name="payload_format" label={t('webhooks.payloadFormat')}>
            <Radio.Group options={formatsOf('http').map((f) => ({ value: f, label: f }))} />
          </Form.Item>
        )}
        <Form.Item name="address" label={t('webhooks.address')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]} extra={type === 'slack' ? t('webhooks.slackHint') : undefined}>
          <Input id="webhook-address" placeholder="https://hooks.example.com/berth" />
        </Form.Item>
        {type === 'http' && (
          <Form.Item name="auth_header" label={t('webhooks.authHeader')} extra={t('webhooks.authHeaderHint')}>
            <Input.Password id="webhook-auth" autoComplete="off" />
          </Form.Item>
        )}
        <Form.Item name="skip_cert_verify" label={t('webhooks.verifyCert')} valuePropName="checked">
          <Switch id="webhook-verify" />
        </Form.Item>
        <Form.Item name="event_types" label={t('webhooks.eventTypes')} rules={[{ required: true, type: 'array', min: 1, message: t('webhooks.pickEvent') }]}>
          <Checkbox.Group data-testid="webhook-events" options={(events?.event_type ?? []).map((e) => ({ value: e, label: e }))} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function Executions({ base }: { base: string }) {
  const { t } = useTranslation();
  const list = usePaged<Execution>(['webhooks', base, 'executions'], `${base}/executions`, {}, 10);
  return (
    <>
      <ErrorAlert error={list.query.error} />
      <Table<Execution>
        size="small"
        rowKey="id"
        data-testid="webhook-executions"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('webhooks.noExecutions') }}
        expandable={{ expandedRowRender: (e) => <Tasks base={`${base}/executions/${e.id}`} /> }}
        title={() => (
          <Space>
            <b>{t('webhooks.executions')}</b>
            <Button size="small" onClick={() => void list.query.refetch()} data-testid="refresh-executions">
              {t('common.refresh')}
            </Button>
          </Space>
        )}
        columns={[
          { title: t('webhooks.id'), dataIndex: 'id' },
          { title: t('webhooks.event'), render: (_: unknown, e) => e.extra_attrs?.event_type ?? '' },
          { title: t('webhooks.status'), render: (_: unknown, e) => <Status s={e.status} /> },
          { title: t('webhooks.trigger'), dataIndex: 'trigger' },
          { title: t('webhooks.startTime'), render: (_: unknown, e) => time(e.start_time) },
          { title: t('webhooks.endTime'), render: (_: unknown, e) => time(e.end_time) },
        ]}
      />
    </>
  );
}

function Tasks({ base }: { base: string }) {
  const { t } = useTranslation();
  const list = usePaged<Task>(['webhooks', base, 'tasks'], `${base}/tasks`, {}, 10);
  const [log, setLog] = useState<{ id: number; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = async (id: number) => {
    try {
      setError(null);
      const r = await call<string>('GET', `${base}/tasks/${id}/log`, { text: true });
      setLog({ id, text: r.data });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <ErrorAlert error={list.query.error ?? error} />
      <Table<Task>
        size="small"
        rowKey="id"
        data-testid="webhook-tasks"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={false}
        columns={[
          { title: t('webhooks.taskId'), dataIndex: 'id' },
          { title: t('webhooks.status'), render: (_: unknown, x) => <Status s={x.status} /> },
          { title: t('webhooks.runCount'), dataIndex: 'run_count' },
          { title: t('webhooks.startTime'), render: (_: unknown, x) => time(x.start_time) },
          { title: t('webhooks.endTime'), render: (_: unknown, x) => time(x.end_time) },
          {
            title: t('webhooks.log'),
            render: (_: unknown, x) => (
              <Button size="small" onClick={() => void open(x.id)} data-testid="webhook-task-log-button">
                {t('webhooks.viewLog')}
              </Button>
            ),
          },
        ]}
      />
      <Modal open={log !== null} width={800} title={t('webhooks.logTitle', { id: log?.id })} footer={null} onCancel={() => setLog(null)}>
        <pre style={{ maxHeight: 480, overflow: 'auto', fontSize: 12, whiteSpace: 'pre-wrap' }} data-testid="webhook-task-log">
          {log?.text}
        </pre>
      </Modal>
    </>
  );
}
