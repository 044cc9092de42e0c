// A project's storage usage against its quota (hard -1 = unlimited).
import { Progress, Tooltip, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import type { ProjectSummary, Quota } from '../api/types.ts';
import { formatBytes } from '../format.ts';

export function QuotaUsage({ used, hard }: { used: number; hard: number }) {
  const { t } = useTranslation();
  const unlimited = hard < 0;
  const pct = unlimited || hard === 0 ? 0 : Math.min(100, Math.round((used / hard) * 100));
  const text = unlimited ? t('quota.usedOfUnlimited', { used: formatBytes(used) }) : t('quota.usedOf', { used: formatBytes(used), hard: formatBytes(hard) });
  return (
    <Tooltip title={text}>
      <div style={{ minWidth: 140 }} aria-label={text}>
        <Progress percent={pct} size="small" status={pct >= 90 ? 'exception' : 'normal'} showInfo={!unlimited} />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {text}
        </Typography.Text>
      </div>
    </Tooltip>
  );
}

/** Quota of one project: /quotas/{id} for system admins, else the project summary's quota if the server gives one. */
export default function QuotaBar({ projectId, admin }: { projectId: number; admin: boolean }) {
  const q = useQuery({
    queryKey: ['quota', projectId, admin],
    queryFn: async () => {
      if (admin) {
        const r = await get<Quota>(`/quotas/${projectId}`);
        return { used: r.used.storage, hard: r.hard.storage };
      }
      const s = await get<ProjectSummary>(`/projects/${projectId}/summary`);
      return s.quota ? { used: s.quota.used.storage, hard: s.quota.hard.storage } : null;
    },
    staleTime: 30_000,
    retry: false,
  });
  if (!q.data) return <Typography.Text type="secondary">—</Typography.Text>;
  return <QuotaUsage used={q.data.used} hard={q.data.hard} />;
}
