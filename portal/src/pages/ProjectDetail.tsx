// One project: summary and tabs (repositories, members, robot accounts, labels, webhooks, policy, logs, configuration).
import { Suspense, lazy } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Breadcrumb, Descriptions, Spin, Tabs, Tag } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import { useCurrentUser, usePermissions, type Can } from '../api/hooks.ts';
import { ROLE_KEYS, type Project, type ProjectSummary } from '../api/types.ts';
import { ErrorAlert, PageTitle } from '../components/common.tsx';
import QuotaBar from '../components/QuotaBar.tsx';
import { formatNumber } from '../format.ts';

const Repositories = lazy(() => import('./project/Repositories.tsx'));
const Members = lazy(() => import('./project/Members.tsx'));
const Robots = lazy(() => import('./admin/Robots.tsx'));
const Labels = lazy(() => import('./project/Labels.tsx'));
const Webhooks = lazy(() => import('./project/Webhooks.tsx'));
const Logs = lazy(() => import('./project/Logs.tsx'));
const Config = lazy(() => import('./project/Config.tsx'));
const Policy = lazy(() => import('./project/Policy.tsx'));


/** The proxy-cache endpoint of a project summary (Harbor's ProjectSummary.registry), as "name (url)". */
function endpointOf(s: unknown): string | null {
  const r = (s as { registry?: { name?: string; url?: string } } | undefined)?.registry;
  return r ? `${r.name} (${r.url})` : null;
}

export default function ProjectDetail() {
  const { t } = useTranslation();
  const { projectId, tab = 'repositories' } = useParams();
  const navigate = useNavigate();
  const me = useCurrentUser();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => get<Project>(`/projects/${projectId}`) });
  const summary = useQuery({ queryKey: ['project-summary', projectId], queryFn: () => get<ProjectSummary>(`/projects/${projectId}/summary`), retry: false });
  const can = usePermissions(projectId ? `/project/${projectId}` : null);

  if (project.error) return <ErrorAlert error={project.error} />;
  if (!project.data || !can.loaded) return <Spin />;
  const p = project.data;
  const props = { project: p, can };
  const tabs = [
    { key: 'repositories', label: t('project.repositories'), show: can('repository', 'list'), el: <Repositories {...props} /> },
    { key: 'members', label: t('project.members'), show: can('member', 'list'), el: <Members {...props} /> },
    { key: 'robots', label: t('project.robots'), show: can('robot', 'list'), el: <Robots project={p} can={can} /> },
    { key: 'labels', label: t('project.labels'), show: can('label', 'list'), el: <Labels {...props} /> },
    // Harbor shows the tab to those who may list notification policies (project admins and maintainers).
    { key: 'webhooks', label: t('project.webhooks'), show: can('notification-policy', 'list'), el: <Webhooks {...props} /> },
    // Harbor's Policy tab: tag retention and tag immutability, for those who may read either.
    { key: 'policy', label: t('project.policy'), show: can('tag-retention', 'read') || can('immutable-tag', 'list'), el: <Policy {...props} /> },
    { key: 'logs', label: t('project.logs'), show: can('log', 'list'), el: <Logs {...props} /> },
    { key: 'config', label: t('project.configuration'), show: can('metadata', 'read') || can('self', 'read'), el: <Config {...props} /> },
  ].filter((x) => x.show);
  const s = summary.data;
  return (
    <>
      <Breadcrumb items={[{ title: <Link to="/projects">{t('nav.projects')}</Link> }, { title: p.name }]} style={{ marginBottom: 8 }} />
      <PageTitle>
        {p.name}{' '}
        {p.metadata?.public === 'true' ? <Tag color="green">{t('projects.public')}</Tag> : <Tag>{t('projects.private')}</Tag>}
        {p.registry_id ? <Tag color="blue">{t('projects.proxyCache')}</Tag> : null}
      </PageTitle>
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('projects.role')}>{p.current_user_role_id ? t(`roles.${ROLE_KEYS[p.current_user_role_id]}`) : me.data?.sysadmin_flag ? t('roles.sysadmin') : '—'}</Descriptions.Item>
        <Descriptions.Item label={t('projects.repoCount')}>{formatNumber(s?.repo_count ?? p.repo_count)}</Descriptions.Item>
        <Descriptions.Item label={t('project.memberCount')}>
          {s ? formatNumber((s.project_admin_count ?? 0) + (s.maintainer_count ?? 0) + (s.developer_count ?? 0) + (s.guest_count ?? 0) + (s.limited_guest_count ?? 0)) : '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('projects.quota')}>
          <QuotaBar projectId={p.project_id} admin={!!me.data?.sysadmin_flag} />
        </Descriptions.Item>
        {p.registry_id ? (
          <Descriptions.Item label={t('projects.endpoint')}>
            {endpointOf(s) ?? `#${p.registry_id}`}
          </Descriptions.Item>
        ) : null}
      </Descriptions>
      <Tabs
        activeKey={tab}
        onChange={(k) => navigate(`/projects/${p.project_id}/${k}`)}
        items={tabs.map((x) => ({
          key: x.key,
          label: x.label,
          children: <Suspense fallback={<Spin />}>{x.key === tab ? x.el : null}</Suspense>,
        }))}
      />
    </>
  );
}
