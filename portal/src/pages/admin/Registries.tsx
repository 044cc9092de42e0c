// Registry endpoints (system admins), as Harbor's portal: list, a create/edit dialog with a provider from
// /replication/adapters and a Test connection button (POST /registries/ping, result in plain words), delete with
// confirm (the server's 412 "referenced by replication policies" is shown as is). The secret is write-only: an
// endpoint's comes back as "*****", and sending the mask back unchanged keeps the stored one.
import { useState } from 'react';
import { Alert, Button, Form, Input, Modal, Select, Space, Switch, Table, Tag } from 'antd';
import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, errorText, get } from '../../api/client.ts';
import type { RegistryEndpoint } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

interface FormValues {
  type: string;
  name: string;
  url: string;
  access_key?: string;
  access_secret?: string;
  verify: boolean;
  description?: string;
}

export default function Registries() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [editing, setEditing] = useState<RegistryEndpoint | 'new' | null>(null);
  const list = usePaged<RegistryEndpoint>(['registries'], '/registries', { sort: '-creation_time' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['registries'] });
  const remove = async (r: RegistryEndpoint) => {
    try {
      await call('DELETE', `/registries/${r.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  return (
    <>
      <PageTitle>{t('registries.title')}</PageTitle>
      <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} style={{ marginBottom: 12 }} data-testid="new-registry">
        {t('registries.new')}
      </Button>
      <ErrorAlert error={list.query.error} />
      <Table<RegistryEndpoint>
        rowKey="id"
        data-testid="registries-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        locale={{ emptyText: t('registries.empty') }}
        columns={[
          { title: t('registries.name'), dataIndex: 'name' },
          { title: t('registries.provider'), dataIndex: 'type' },
          { title: t('registries.url'), dataIndex: 'url' },
          { title: t('registries.status'), dataIndex: 'status', render: (s?: string) => <Tag color={s === 'healthy' ? 'green' : s === 'unhealthy' ? 'red' : 'default'}>{s || '—'}</Tag> },
          { title: t('registries.verifyCert'), dataIndex: 'insecure', render: (v?: boolean) => (v ? t('common.no') : t('common.yes')) },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          { title: t('common.description'), dataIndex: 'description' },
          {
            title: t('common.actions'),
            render: (_: unknown, r) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(r)} data-testid="edit-registry">
                  {t('registries.edit')}
                </Button>
                <DeleteButton onConfirm={() => remove(r)} />
              </Space>
            ),
          },
        ]}
      />
      {editing !== null && (
        <RegistryDialog
          registry={editing === 'new' ? null : editing}
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

function RegistryDialog({ registry, onClose, onSaved }: { registry: RegistryEndpoint | null; onClose: () => void; onSaved: () => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<FormValues>();
  const [error, setError] = useState<unknown>(null);
  const [ping, setPing] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const adapters = useQuery({ queryKey: ['replication-adapters'], queryFn: () => get<string[]>('/replication/adapters'), staleTime: 300_000 });

  const body = (v: FormValues) => ({
    name: v.name.trim(),
    type: v.type,
    url: v.url.trim(),
    description: v.description ?? '',
    insecure: !v.verify,
    // The mask "*****" sent back as is keeps the stored secret (the server's rule).
    credential: { type: 'basic', access_key: v.access_key ?? '', access_secret: v.access_secret ?? '' },
  });
  const test = async () => {
    const v = await form.validateFields(['type', 'url']);
    const all = { ...form.getFieldsValue(), ...v } as FormValues;
    const b = body({ ...all, name: all.name ?? '' });
    setBusy(true);
    setPing(null);
    try {
      await call('POST', '/registries/ping', {
        body: { ...(registry ? { id: registry.id } : {}), type: b.type, url: b.url, insecure: b.insecure, credential_type: 'basic', access_key: b.credential.access_key, access_secret: b.credential.access_secret },
      });
      setPing({ ok: true, text: t('registries.pingOk') });
    } catch (e) {
      setPing({ ok: false, text: t('registries.pingFailed', { reason: errorText(e) }) });
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      if (registry) await call('PUT', `/registries/${registry.id}`, { body: body(v) });
      else await call('POST', '/registries', { body: body(v) });
      await onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      width={600}
      title={registry ? t('registries.editTitle') : t('registries.new')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="test" onClick={() => void test()} loading={busy} data-testid="registry-test">
          {t('registries.test')}
        </Button>,
        <Button key="cancel" onClick={onClose}>
          {t('common.cancel')}
        </Button>,
        <Button key="ok" type="primary" onClick={() => void save()} loading={busy} data-testid="registry-save">
          {registry ? t('common.save') : t('common.create')}
        </Button>,
      ]}
    >
      {error ? <Alert type="error" showIcon role="alert" title={errorText(error)} style={{ marginBottom: 12 }} data-testid="registry-error" /> : null}
      {ping ? <Alert type={ping.ok ? 'success' : 'error'} showIcon title={ping.text} style={{ marginBottom: 12 }} data-testid="registry-ping-result" /> : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{
          type: registry?.type ?? 'harbor',
          name: registry?.name ?? '',
          url: registry?.url ?? '',
          access_key: registry?.credential?.access_key ?? '',
          access_secret: registry?.credential?.access_secret ?? '',
          verify: !(registry?.insecure ?? false),
          description: registry?.description ?? '',
        }}
      >
        <Form.Item name="type" label={t('registries.provider')} rules={[{ required: true, message: t('validation.required') }]}>
          <Select id="registry-type" disabled={!!registry} options={(adapters.data ?? ['harbor']).map((a) => ({ value: a, label: a }))} />
        </Form.Item>
        <Form.Item name="name" label={t('registries.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input id="registry-name" autoFocus />
        </Form.Item>
        <Form.Item name="url" label={t('registries.url')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input id="registry-url" placeholder="https://registry.example.com" />
        </Form.Item>
        <Form.Item name="access_key" label={t('registries.accessKey')}>
          <Input id="registry-access-key" autoComplete="off" />
        </Form.Item>
        <Form.Item name="access_secret" label={t('registries.accessSecret')} extra={registry ? t('registries.secretKept') : undefined}>
          <Input.Password id="registry-access-secret" autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="verify" label={t('registries.verifyCert')} valuePropName="checked">
          <Switch id="registry-verify" />
        </Form.Item>
        <Form.Item name="description" label={t('common.description')}>
          <Input.TextArea id="registry-description" rows={2} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
