// A project's storage usage against its quota (hard -1 = unlimited).
import { Spin, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import type { ProjectSummary, Quota } from '../api/types.ts';
import { formatBytes } from '../format.ts';

/** A plain bar (cheap to render in every row of a long table). */
export function QuotaUsage({ used, hard }: { used: number; hard: number }) {
  const { t } = useTranslation();
  const unlimited = hard < 0;
  const pct = unlimited || hard === 0 ? 0 : Math.min(100, Math.round((used / hard) * 100));
  const text = unlimited ? t('quota.usedOfUnlimited', { used: formatBytes(used) }) : t('quota.usedOf', { used: formatBytes(used), hard: formatBytes(hard) });
  return (
    <div style={{ minWidth: 140 }} title={text}>
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-label={text}
        style={{ height: 6, borderRadius: 3, background: 'rgba(127,127,127,0.2)', overflow: 'hidden', marginBottom: 2 }}
      >
        <div style={{ width: `${pct}%`, height: '100%', background: pct >= 90 ? '#ff4d4f' : '#1677ff' }} />
      </div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {text}
      </Typography.Text>
    </div>
  );
}

/** Quota of one project: /quotas/{id} for system admins, else the project summary's quota if the server gives one. */
/** `projectId` undefined (a project answer without an id) shows nothing and fetches nothing. */
export default function QuotaBar({ projectId, admin }: { projectId: number | undefined; admin: boolean }) {
  const q = useQuery({
    queryKey: ['quota', projectId, admin],
    queryFn: async () => {
      if (admin) {
        const r = await get<Quota>(`/quotas/${projectId}`);
        return { used: r.used?.storage ?? 0, hard: r.hard?.storage ?? -1 };
      }
      const s = await get<ProjectSummary>(`/projects/${projectId}/summary`);
      return s.quota ? { used: s.quota.used?.storage ?? 0, hard: s.quota.hard?.storage ?? -1 } : null;
    },
    staleTime: 30_000,
    retry: false,
    enabled: projectId !== undefined,
  });
  // While loading, a spinner: "—" is kept for "no quota to show" (not readable, or none).
  if (q.isLoading) return <Spin size="small" />;
  if (!q.data) return <Typography.Text type="secondary">—</Typography.Text>;
  return <QuotaUsage used={q.data.used} hard={q.data.hard} />;
}
