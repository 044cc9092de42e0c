// Projects: server-side paginated list with name search, create dialog (public/private, quota), quota usage.
import { useState } from 'react';
import { Link } from 'react-router';
import { Button, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { call } from '../api/client.ts';
import { ok, typed } from '../api/typed.ts';
import { useCurrentUser, usePermissions } from '../api/hooks.ts';
import { ROLE_KEYS, type Project } from '../api/types.ts';
import { DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../components/common.tsx';
import QuotaBar from '../components/QuotaBar.tsx';
import { PROJECTS_PAGE_SIZE, projectsListArgs } from './projects-query.ts';
import { formatDate, formatNumber } from '../format.ts';

const UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

interface CreateForm {
  project_name: string;
  public: boolean;
  limit: number | null;
  unit: keyof typeof UNITS;
}

export default function Projects() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const can = usePermissions('/');
  const qc = useQueryClient();
  const notify = useNotify();
  const admin = !!me.data?.sysadmin_flag;
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<CreateForm>();
  const args = projectsListArgs(search);
  const list = usePaged<Project>(args.key, args.path, args.query, PROJECTS_PAGE_SIZE);

  const create = async () => {
    const v = await form.validateFields();
    const body = {
      project_name: v.project_name.trim(),
      metadata: { public: String(v.public) },
      ...(admin ? { storage_limit: v.limit === null || v.limit === undefined || v.limit < 0 ? -1 : Math.round(v.limit * UNITS[v.unit]) } : {}),
    };
    try {
      await ok(typed.POST('/projects', { body }));
      notify.ok(t('projects.created', { name: body.project_name }));
      setCreating(false);
      form.resetFields();
      await qc.invalidateQueries({ queryKey: ['projects'] });
    } catch (e) {
      notify.fail(e);
    }
  };

  const remove = async (p: Project) => {
    try {
      await call('DELETE', `/projects/${p.project_id}`);
      notify.ok(t('common.deleted'));
      await qc.invalidateQueries({ queryKey: ['projects'] });
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      <PageTitle
        extra={
          <Space>
            <Input.Search
              placeholder={t('projects.search')}
              aria-label={t('projects.search')}
              allowClear
              onSearch={(v) => {
                setSearch(v.trim());
                list.reset();
              }}
              style={{ width: 260 }}
            />
            <Button icon={<ReloadOutlined />} onClick={() => void list.query.refetch()} aria-label={t('common.refresh')} />
            {(admin || can('project', 'create')) && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="new-project">
                {t('projects.new')}
              </Button>
            )}
          </Space>
        }
      >
        {t('nav.projects')}
      </PageTitle>
      <ErrorAlert error={list.query.error} />
      <Table<Project>
        rowKey="project_id"
        data-testid="projects-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        size="middle"
        columns={[
          { title: t('projects.name'), dataIndex: 'name', render: (name: string, p) => <Link to={`/projects/${p.project_id}/repositories`}>{name}</Link> },
          {
            title: t('projects.accessLevel'),
            render: (_: unknown, p) => (p.metadata?.public === 'true' ? <Tag color="green">{t('projects.public')}</Tag> : <Tag>{t('projects.private')}</Tag>),
          },
          { title: t('projects.role'), render: (_: unknown, p) => (p.current_user_role_id ? t(`roles.${ROLE_KEYS[p.current_user_role_id]}`) : '—') },
          { title: t('projects.repoCount'), dataIndex: 'repo_count', align: 'right', render: (n: number) => formatNumber(n) },
          { title: t('projects.quota'), render: (_: unknown, p) => <QuotaBar projectId={p.project_id} admin={admin} /> },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          {
            title: t('common.actions'),
            render: (_: unknown, p) => (admin || p.current_user_role_id === 1 ? <DeleteButton onConfirm={() => remove(p)} /> : null),
          },
        ]}
      />
      <Modal
        open={creating}
        title={t('projects.new')}
        okText={t('common.create')}
        cancelText={t('common.cancel')}
        onOk={create}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" initialValues={{ public: false, limit: -1, unit: 'GiB' }}>
          <Form.Item
            name="project_name"
            label={t('projects.name')}
            rules={[
              { required: true, message: t('validation.required') },
              { pattern: /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, message: t('validation.projectName') },
              { max: 255 },
            ]}
          >
            <Input id="project-name" autoFocus />
          </Form.Item>
          <Form.Item name="public" label={t('projects.public')} valuePropName="checked" extra={t('projects.publicHint')}>
            <Switch aria-label={t('projects.public')} />
          </Form.Item>
          {admin && (
            <Form.Item label={t('projects.storageLimit')} extra={t('projects.storageLimitHint')}>
              <Space.Compact>
                <Form.Item name="limit" noStyle>
                  <InputNumber min={-1} aria-label={t('projects.storageLimit')} style={{ width: 160 }} />
                </Form.Item>
                <Form.Item name="unit" noStyle>
                  <Select style={{ width: 90 }} options={Object.keys(UNITS).map((u) => ({ value: u, label: u }))} aria-label={t('projects.unit')} />
                </Form.Item>
              </Space.Compact>
            </Form.Item>
          )}
        </Form>
      </Modal>
    </>
  );
}
