// Vulnerability scanning in the artifact pages: the scan state and severity bar of an artifact (its scan_overview),
// the Scan button (POST …/scan), and the findings table of the vulnerabilities addition.
import { Button, Progress, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, get } from '../../api/client.ts';
import type { Artifact, ScanSummary, VulnerabilityItem, VulnerabilityReport } from '../../api/types.ts';
import { useNotify } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

/** The report MIME type of Berth's built-in scanner (the key of scan_overview). */
export const REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

const ORDER = ['Critical', 'High', 'Medium', 'Low', 'Unknown', 'None'];
export const SEVERITY_COLOR: Record<string, string> = { Critical: '#a8071a', High: '#f5222d', Medium: '#fa8c16', Low: '#fadb14', Unknown: '#8c8c8c', None: '#52c41a' };

export const summaryOf = (a: Pick<Artifact, 'scan_overview'>): ScanSummary | undefined => a.scan_overview?.[REPORT_MIME];
/** Whether the list should be re-read soon (a scan is queued or running). */
export const scanBusy = (a: Pick<Artifact, 'scan_overview'>) => ['Pending', 'Running'].includes(summaryOf(a)?.scan_status ?? '');
/** Images and indexes are what the built-in scanner scans. */
export const scannable = (a: Pick<Artifact, 'type'>) => (a.type ?? '').toUpperCase() === 'IMAGE';

/** A severity's label in the current language. */
export function useSeverityLabel() {
  const { t } = useTranslation();
  return (s: string) => (s === 'Unknown' ? t('scan.unknown') : t(`severity.${s.toLowerCase()}`, { defaultValue: s }));
}

/** The scan state of one artifact: not scanned, queued/running, failed, or the severity with a bar of the counts. */
export function ScanStatus({ artifact }: { artifact: Pick<Artifact, 'scan_overview'> }) {
  const { t } = useTranslation();
  const label = useSeverityLabel();
  const s = summaryOf(artifact);
  if (!s) return <Typography.Text type="secondary" data-testid="scan-status">{t('scan.notScanned')}</Typography.Text>;
  if (s.scan_status === 'Pending' || s.scan_status === 'Running')
    return (
      <Space data-testid="scan-status">
        <Tag color="processing">{t(`scan.status.${s.scan_status}`)}</Tag>
        {s.scan_status === 'Running' && <Progress percent={s.complete_percent ?? 0} size="small" style={{ width: 80 }} />}
      </Space>
    );
  if (s.scan_status !== 'Success')
    return (
      <Tag color={s.scan_status === 'Error' ? 'error' : 'default'} data-testid="scan-status">
        {t(`scan.status.${s.scan_status}`, { defaultValue: s.scan_status })}
      </Tag>
    );
  const counts = s.summary?.summary ?? {};
  const total = s.summary?.total ?? 0;
  const sev = s.severity ?? 'None';
  return (
    <Space direction="vertical" size={2} data-testid="scan-status">
      <Space size={4}>
        <Tag color={SEVERITY_COLOR[sev]} data-testid="scan-severity">
          {total ? label(sev) : t('scan.noVulnerabilities')}
        </Tag>
        {total > 0 && (
          <Typography.Text type="secondary" style={{ whiteSpace: 'nowrap' }}>
            {t('scan.totals', { total, fixable: s.summary?.fixable ?? 0 })}
          </Typography.Text>
        )}
      </Space>
      {total > 0 && (
        <Tooltip title={ORDER.filter((k) => counts[k]).map((k) => `${label(k)}: ${counts[k]}`).join(' · ')}>
          <div style={{ display: 'flex', width: 140, height: 6, borderRadius: 3, overflow: 'hidden' }} data-testid="scan-bar">
            {ORDER.filter((k) => counts[k]).map((k) => (
              <div key={k} style={{ flex: counts[k], background: SEVERITY_COLOR[k] }} />
            ))}
          </div>
        </Tooltip>
      )}
    </Space>
  );
}

/** Starts a scan of the artifact; `onDone` re-reads what shows its state. */
export function ScanButton({ base, digest, onDone, size = 'small' }: { base: string; digest: string; onDone: () => unknown; size?: 'small' | 'middle' }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const scan = async () => {
    try {
      await call('POST', `${base}/${digest}/scan`, { body: { scan_type: 'vulnerability' } });
      notify.ok(t('scan.started'));
      await onDone();
    } catch (e) {
      notify.fail(e);
    }
  };
  return (
    <Button size={size} onClick={scan} data-testid="scan-button">
      {t('scan.scan')}
    </Button>
  );
}

/** The findings of the artifact's report (the vulnerabilities addition), most severe first. */
export function VulnerabilitiesTable({ base, artifact }: { base: string; artifact: Pick<Artifact, 'scan_overview'> }) {
  const { t } = useTranslation();
  const label = useSeverityLabel();
  const s = summaryOf(artifact);
  const report = useQuery({
    queryKey: ['vulnerabilities', base, s?.report_id, s?.scan_status, s?.summary?.total],
    queryFn: async () => (await get<Record<string, VulnerabilityReport>>(`${base}/additions/vulnerabilities`))[REPORT_MIME] ?? null,
    enabled: s?.scan_status === 'Success',
  });
  return (
    <>
      {s?.scan_status === 'Success' && (
        <Typography.Paragraph type="secondary">
          {t('scan.scannedAt', { time: formatDate(s.end_time), scanner: `${s.scanner?.name ?? ''} ${s.scanner?.version ?? ''}`.trim() })}
        </Typography.Paragraph>
      )}
      <Table<VulnerabilityItem>
        rowKey={(v) => `${v.id}\0${v.package}\0${v.version}`}
        size="small"
        data-testid="vulnerabilities-table"
        loading={report.isLoading}
        dataSource={report.data?.vulnerabilities ?? []}
        locale={{ emptyText: s ? t('scan.noVulnerabilities') : t('scan.notScanned') }}
        columns={[
          {
            title: t('scan.cve'),
            dataIndex: 'id',
            render: (id: string, v) => (v.links?.[0] ? <Typography.Link href={v.links[0]} target="_blank" rel="noreferrer noopener">{id}</Typography.Link> : id),
          },
          { title: t('scan.severity'), dataIndex: 'severity', render: (x: string) => <Tag color={SEVERITY_COLOR[x]}>{label(x)}</Tag> },
          { title: t('scan.package'), dataIndex: 'package' },
          { title: t('scan.version'), dataIndex: 'version' },
          { title: t('scan.fixVersion'), dataIndex: 'fix_version', render: (x: string) => x || '—' },
          { title: t('scan.description'), dataIndex: 'description', ellipsis: true },
        ]}
      />
    </>
  );
}
