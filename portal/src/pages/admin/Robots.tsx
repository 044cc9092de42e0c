// Robot accounts: system robots (administration) or one project's robots (project tab). Create with a
// permission picker; the secret is shown once with a copy button; enable/disable, refresh secret, delete.
import { useState } from 'react';
import { Alert, Button, Checkbox, Form, Input, InputNumber, Modal, Space, Switch, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client.ts';
import { useEndpoint, usePermissions, type Can } from '../../api/hooks.ts';
import type { Access, Project, Robot, RobotCreated } from '../../api/types.ts';
import { CopyButton, DeleteButton, ErrorAlert, NotAvailable, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

/** Grantable project-scope permissions (a subset of Harbor's project robot policies). */
export const PROJECT_ACCESS: [string, string[]][] = [
  ['repository', ['list', 'pull', 'push', 'delete']],
  ['artifact', ['read', 'list', 'delete']],
  ['tag', ['list', 'create', 'delete']],
  ['artifact-label', ['create', 'delete']],
  ['accessory', ['list']],
  ['scan', ['create', 'stop']],
  ['label', ['read', 'list']],
];
const SYSTEM_ACCESS: [string, string[]][] = [
  ['project', ['list', 'create']],
  ['audit-log', ['list']],
  ['garbage-collection', ['read', 'list']],
  ['registry', ['list']],
];

interface CreateForm {
  name: string;
  description?: string;
  duration: number;
  access: string[];
  system: string[];
  allProjects: boolean;
}

export default function Robots({ project, can: projectCan }: { project?: Project; can?: Can }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const sysCan = usePermissions(project ? null : '/');
  const can = project ? projectCan! : sysCan;
  const exists = useEndpoint('/robots');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<RobotCreated | null>(null);
  const [form] = Form.useForm<CreateForm>();
  const list = usePaged<Robot>(['robots', project?.project_id ?? 'system'], exists.data ? '/robots' : null, {
    q: project ? `Level=project,ProjectID=${project.project_id}` : undefined,
    sort: '-creation_time',
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['robots'] });

  if (exists.data === false) return <NotAvailable what={t('robots.notAvailable')} />;

  const create = async () => {
    const v = await form.validateFields();
    const access: Access[] = (v.access ?? []).map((x) => {
      const [resource, action] = x.split('|');
      return { resource, action };
    });
    const permissions = project
      ? [{ kind: 'project', namespace: project.name, access }]
      : [
          ...(v.system?.length ? [{ kind: 'system', namespace: '/', access: v.system.map((x) => ({ resource: x.split('|')[0], action: x.split('|')[1] })) }] : []),
          ...(access.length && v.allProjects ? [{ kind: 'project', namespace: '*', access }] : []),
        ];
    try {
      const r = await call<RobotCreated>('POST', '/robots', {
        body: { name: v.name.trim(), description: v.description ?? '', duration: v.duration, level: project ? 'project' : 'system', disable: false, permissions },
      });
      setCreating(false);
      form.resetFields();
      setCreated(r.data);
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const toggle = async (r: Robot, enabled: boolean) => {
    try {
      await call('PUT', `/robots/${r.id}`, { body: { ...r, disable: !enabled } });
      notify.ok();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const refreshSecret = async (r: Robot) => {
    try {
      const res = await call<{ secret: string }>('PATCH', `/robots/${r.id}`, { body: {} });
      setCreated({ id: r.id, name: r.name, secret: res.data.secret, creation_time: r.creation_time, expires_at: r.expires_at });
    } catch (e) {
      notify.fail(e);
    }
  };
  const remove = async (r: Robot) => {
    try {
      await call('DELETE', `/robots/${r.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  const picker = (groups: [string, string[]][]) => (
    <Space direction="vertical" size={4}>
      {groups.map(([res, actions]) => (
        <Space key={res} wrap>
          <Typography.Text strong style={{ display: 'inline-block', width: 130 }}>
            {t(`resources.${res}`)}
          </Typography.Text>
          {actions.map((a) => (
            <Checkbox key={a} value={`${res}|${a}`}>
              {t(`actions.${a}`)}
            </Checkbox>
          ))}
        </Space>
      ))}
    </Space>
  );

  const title = project ? null : <PageTitle>{t('nav.robots')}</PageTitle>;
  return (
    <>
      {title}
      {can('robot', 'create') && (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ marginBottom: 12 }} data-testid="new-robot">
          {t('robots.new')}
        </Button>
      )}
      <ErrorAlert error={list.query.error} />
      <Table<Robot>
        rowKey="id"
        data-testid="robots-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('robots.name'), dataIndex: 'name' },
          {
            title: t('robots.enabled'),
            render: (_: unknown, r) => (
              <Switch size="small" checked={!r.disable} disabled={!can('robot', 'update')} onChange={(v) => void toggle(r, v)} aria-label={t('robots.enabled')} />
            ),
          },
          {
            title: t('robots.permissions'),
            render: (_: unknown, r) => (
              <Typography.Text type="secondary">{t('robots.permissionCount', { count: r.permissions?.reduce((n, p) => n + (p.access?.length ?? 0), 0) ?? 0 })}</Typography.Text>
            ),
          },
          { title: t('robots.expiresAt'), dataIndex: 'expires_at', render: (v: number) => (v === -1 ? <Tag>{t('robots.never')}</Tag> : formatDate(v * 1000)) },
          { title: t('common.description'), dataIndex: 'description' },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          {
            title: t('common.actions'),
            render: (_: unknown, r) => (
              <Space>
                {can('robot', 'update') && (
                  <Button size="small" onClick={() => void refreshSecret(r)}>
                    {t('robots.refreshSecret')}
                  </Button>
                )}
                {can('robot', 'delete') && <DeleteButton onConfirm={() => remove(r)} />}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={creating} width={640} title={t('robots.new')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={create} onCancel={() => setCreating(false)} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ duration: 30, access: ['repository|pull', 'artifact|read'], system: [], allProjects: true }}>
          <Form.Item
            name="name"
            label={t('robots.name')}
            rules={[
              { required: true, message: t('validation.required') },
              { pattern: /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, message: t('validation.robotName') },
            ]}
          >
            <Input id="robot-name" autoFocus />
          </Form.Item>
          <Form.Item name="description" label={t('common.description')}>
            <Input />
          </Form.Item>
          <Form.Item name="duration" label={t('robots.duration')} extra={t('robots.durationHint')}>
            <InputNumber min={-1} max={3650} />
          </Form.Item>
          {!project && (
            <Form.Item name="system" label={t('robots.systemPermissions')}>
              <Checkbox.Group>{picker(SYSTEM_ACCESS)}</Checkbox.Group>
            </Form.Item>
          )}
          {!project && (
            <Form.Item name="allProjects" valuePropName="checked">
              <Checkbox>{t('robots.allProjects')}</Checkbox>
            </Form.Item>
          )}
          <Form.Item name="access" label={t('robots.projectPermissions')}>
            <Checkbox.Group>{picker(PROJECT_ACCESS)}</Checkbox.Group>
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={created !== null}
        title={t('robots.secretTitle')}
        onCancel={() => setCreated(null)}
        footer={
          <Button type="primary" onClick={() => setCreated(null)}>
            {t('common.close')}
          </Button>
        }
      >
        {created && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Alert type="warning" showIcon title={t('robots.secretOnce')} />
            <Typography.Text>{t('robots.name')}</Typography.Text>
            <Space.Compact style={{ width: '100%' }}>
              <Input readOnly value={created.name} data-testid="robot-created-name" aria-label={t('robots.name')} />
              <CopyButton text={created.name ?? ''} />
            </Space.Compact>
            <Typography.Text>{t('robots.secret')}</Typography.Text>
            <Space.Compact style={{ width: '100%' }}>
              <Input readOnly value={created.secret} data-testid="robot-secret" aria-label={t('robots.secret')} />
              <CopyButton text={created.secret ?? ''} />
            </Space.Compact>
          </Space>
        )}
      </Modal>
    </>
  );
}
