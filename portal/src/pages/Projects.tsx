// Projects: server-side paginated list with name search, create dialog (public/private, quota), quota usage.
import { Suspense, lazy, useState } from 'react';
import { Link } from 'react-router';
import { Button, Input, Space, Table, Tag } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { call } from '../api/client.ts';
import { useCurrentUser, usePermissions } from '../api/hooks.ts';
import { ROLE_KEYS, type Project } from '../api/types.ts';
import { DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../components/common.tsx';
import QuotaBar from '../components/QuotaBar.tsx';
import { PROJECTS_PAGE_SIZE, projectsListArgs } from './projects-query.ts';
import { formatDate, formatNumber } from '../format.ts';

// The create dialog (form, number input, switch) loads on first use, keeping the page's initial JS small.
const CreateProjectDialog = lazy(() => import('./CreateProjectDialog.tsx'));

export default function Projects() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const can = usePermissions('/');
  const qc = useQueryClient();
  const notify = useNotify();
  const admin = !!me.data?.sysadmin_flag;
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const args = projectsListArgs(search);
  const list = usePaged<Project>(args.key, args.path, args.query, PROJECTS_PAGE_SIZE);

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
            render: (_: unknown, p) => (
              <>
                {p.metadata?.public === 'true' ? <Tag color="green">{t('projects.public')}</Tag> : <Tag>{t('projects.private')}</Tag>}
                {p.registry_id ? <Tag color="blue">{t('projects.proxyCache')}</Tag> : null}
              </>
            ),
          },
          // As the project page: a system admin without a membership is "System Admin", not "—".
          { title: t('projects.role'), render: (_: unknown, p) => (p.current_user_role_id ? t(`roles.${ROLE_KEYS[p.current_user_role_id]}`) : admin ? t('roles.sysadmin') : '—') },
          { title: t('projects.repoCount'), dataIndex: 'repo_count', align: 'right', render: (n: number) => formatNumber(n) },
          { title: t('projects.quota'), render: (_: unknown, p) => <QuotaBar projectId={p.project_id} admin={admin} /> },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          {
            title: t('common.actions'),
            render: (_: unknown, p) => (admin || p.current_user_role_id === 1 ? <DeleteButton onConfirm={() => remove(p)} /> : null),
          },
        ]}
      />
      {creating && (
        <Suspense fallback={null}>
          <CreateProjectDialog admin={admin} onClose={() => setCreating(false)} />
        </Suspense>
      )}
    </>
  );
}
