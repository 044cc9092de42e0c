// Dashboard: project and repository counts and storage use (SVG charts), from /statistics when the server
// has it, else counted from the project list; storage by project from /quotas for system admins.
import { Card, Col, Empty, Row, Statistic as Stat } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, get, getPage } from '../api/client.ts';
import { useCurrentUser } from '../api/hooks.ts';
import type { Quota, Statistic } from '../api/types.ts';
import { Bars, Donut } from '../components/Charts.tsx';
import { PageTitle } from '../components/common.tsx';
import { formatBytes } from '../format.ts';

/** A quota's used storage; Harbor's ResourceList may leave it out (then nothing is used). */
const usedBytes = (q: Quota): number => q.used?.storage ?? 0;

async function statistics(): Promise<Partial<Statistic>> {
  try {
    return await get<Statistic>('/statistics');
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    const [pub, priv] = await Promise.all([getPage('/projects', { public: true, page_size: 1 }), getPage('/projects', { public: false, page_size: 1 })]);
    return { public_project_count: pub.total, private_project_count: priv.total, total_project_count: pub.total + priv.total };
  }
}

export default function Dashboard() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const admin = !!me.data?.sysadmin_flag;
  const stats = useQuery({ queryKey: ['statistics'], queryFn: statistics });
  const quotas = useQuery({
    queryKey: ['quotas-top'],
    queryFn: () => getPage<Quota>('/quotas', { page_size: 100 }).then((r) => r.items.sort((a, b) => usedBytes(b) - usedBytes(a)).slice(0, 10)),
    enabled: admin,
  });
  const s = stats.data ?? {};
  const storage = s.total_storage_consumption ?? (quotas.data ? quotas.data.reduce((n, q) => n + usedBytes(q), 0) : undefined);
  return (
    <>
      <PageTitle>{t('nav.dashboard')}</PageTitle>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card>
            <Stat title={t('dashboard.projects')} value={s.total_project_count ?? 0} loading={stats.isLoading} />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card>
            <Stat title={t('dashboard.repositories')} value={s.total_repo_count ?? '—'} loading={stats.isLoading} />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card>
            <Stat title={t('dashboard.storage')} value={storage === undefined ? '—' : formatBytes(storage)} loading={stats.isLoading} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('dashboard.projects')}>
            <Donut
              label={t('dashboard.projects')}
              parts={[
                { label: t('projects.public'), value: s.public_project_count ?? 0 },
                { label: t('projects.private'), value: s.private_project_count ?? 0 },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('dashboard.repositories')}>
            {s.total_repo_count === undefined ? (
              <Empty description={t('dashboard.noRepoStats')} />
            ) : (
              <Donut
                label={t('dashboard.repositories')}
                parts={[
                  { label: t('projects.public'), value: s.public_repo_count ?? 0 },
                  { label: t('projects.private'), value: s.private_repo_count ?? 0 },
                ]}
              />
            )}
          </Card>
        </Col>
        {admin && (
          <Col xs={24}>
            <Card title={t('dashboard.storageByProject')}>
              {quotas.data?.length ? (
                <Bars label={t('dashboard.storageByProject')} rows={quotas.data.map((q) => ({ label: typeof q.ref?.name === 'string' ? q.ref.name : `#${q.id ?? ''}`, value: usedBytes(q) }))} format={formatBytes} />
              ) : (
                <Empty />
              )}
            </Card>
          </Col>
        )}
      </Row>
    </>
  );
}
