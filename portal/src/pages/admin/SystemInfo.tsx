// System information: /systeminfo, /health and the statistics.
import { Badge, Card, Descriptions, Space, Table } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../../api/client.ts';
import { useSystemInfo } from '../../api/hooks.ts';
import type { Health } from '../../api/types.ts';
import { PageTitle } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

export default function SystemInfoPage() {
  const { t } = useTranslation();
  const info = useSystemInfo();
  const health = useQuery({ queryKey: ['health'], queryFn: () => get<Health>('/health').catch(() => null) });
  const i = info.data ?? {};
  const yes = (b: boolean | undefined) => (b === undefined ? '—' : b ? t('common.yes') : t('common.no'));
  return (
    <>
      <PageTitle>{t('nav.systemInfo')}</PageTitle>
      <Space direction="vertical" style={{ width: '100%' }} size="large">
        <Card>
          <Descriptions bordered size="small" column={1} data-testid="systeminfo">
            <Descriptions.Item label={t('system.version')}>{i.harbor_version ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('system.externalUrl')}>{i.external_url ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('system.registryUrl')}>{i.registry_url ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('config.keys.auth_mode')}>{i.auth_mode ? t(`config.values.${i.auth_mode}`, { defaultValue: i.auth_mode }) : '—'}</Descriptions.Item>
            <Descriptions.Item label={t('config.keys.self_registration')}>{yes(i.self_registration)}</Descriptions.Item>
            <Descriptions.Item label={t('config.keys.project_creation_restriction')}>
              {i.project_creation_restriction ? t(`config.values.${i.project_creation_restriction}`, { defaultValue: i.project_creation_restriction }) : '—'}
            </Descriptions.Item>
            <Descriptions.Item label={t('config.keys.read_only')}>{yes(i.read_only)}</Descriptions.Item>
            <Descriptions.Item label={t('system.storage')}>{i.registry_storage_provider_name ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('system.currentTime')}>{formatDate(i.current_time)}</Descriptions.Item>
          </Descriptions>
        </Card>
        <Card title={t('system.health')}>
          {health.data ? (
            <Table
              rowKey="name"
              size="small"
              pagination={false}
              dataSource={health.data.components ?? []}
              columns={[
                { title: t('system.component'), dataIndex: 'name' },
                { title: t('gc.status'), dataIndex: 'status', render: (s: string) => <Badge status={s === 'healthy' ? 'success' : 'error'} text={s} /> },
                { title: t('common.error'), dataIndex: 'error' },
              ]}
            />
          ) : (
            t('system.noHealth')
          )}
        </Card>
      </Space>
    </>
  );
}
