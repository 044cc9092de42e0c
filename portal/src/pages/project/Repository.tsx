// A repository's artifacts: digest (with the signed mark), tags, type (an index's platforms, expandable to its
// children), size, vulnerabilities (scan state and severity bar, Scan with scan:create), accessories, labels
// (add/remove), push/pull times, pull command, delete (artifact:delete).
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { Breadcrumb, Space, Spin, Table, Tag, Typography } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, get, repoPath } from '../../api/client.ts';
import { usePermissions } from '../../api/hooks.ts';
import type { Artifact, Project } from '../../api/types.ts';
import { CopyButton, DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatBytes, formatDate, shortDigest } from '../../format.ts';
import { pullCommand } from './pull.ts';
import { AccessoryIcons, ArtifactLabels, IndexChildren, PlatformTags, SignedMark, noWrapCell } from './artifact-bits.tsx';
import { ScanButton, ScanStatus, scanBusy, scannable } from './scan-bits.tsx';

export default function RepositoryPage() {
  const { t } = useTranslation();
  const { projectId, repo = '' } = useParams();
  const qc = useQueryClient();
  const notify = useNotify();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => get<Project>(`/projects/${projectId}`) });
  const can = usePermissions(projectId ? `/project/${projectId}` : null);
  const pname = project.data?.name;
  const base = pname ? `/projects/${encodeURIComponent(pname)}/repositories/${repoPath(repo)}/artifacts` : null;
  const list = usePaged<Artifact>(['artifacts', projectId, repo], base, { with_tag: true, with_label: true, with_accessory: true, with_scan_overview: true, sort: '-push_time' });
  // While a scan is queued or running, the list is re-read every 2 s so its state moves on by itself.
  const busy = list.rows.some(scanBusy);
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => qc.invalidateQueries({ queryKey: ['artifacts', projectId, repo] }), 2000);
    return () => clearInterval(timer);
  }, [busy, qc, projectId, repo]);

  if (project.error) return <ErrorAlert error={project.error} />;
  if (!pname) return <Spin />;

  const remove = async (a: Artifact) => {
    try {
      await call('DELETE', `${base}/${a.digest}`);
      notify.ok(t('common.deleted'));
      await qc.invalidateQueries({ queryKey: ['artifacts', projectId, repo] });
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[
          { title: <Link to="/projects">{t('nav.projects')}</Link> },
          { title: <Link to={`/projects/${projectId}/repositories`}>{pname}</Link> },
          { title: repo },
        ]}
      />
      <PageTitle>
        {pname}/{repo}
      </PageTitle>
      <ErrorAlert error={list.query.error} />
      <Table<Artifact>
        rowKey="id"
        data-testid="artifacts-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        expandable={{
          rowExpandable: (a) => !!a.references?.length,
          expandedRowRender: (a) => <IndexChildren artifact={a} base={base!} linkBase={`/projects/${projectId}/repositories/${encodeURIComponent(repo)}/artifacts`} />,
        }}
        columns={[
          {
            title: t('artifacts.digest'),
            dataIndex: 'digest',
            onCell: noWrapCell,
            render: (d: string, a) => (
              <>
                <Link to={`/projects/${projectId}/repositories/${encodeURIComponent(repo)}/artifacts/${d}`}>
                  <Typography.Text code>{shortDigest(d)}</Typography.Text>
                </Link>
                <SignedMark artifact={a} />
              </>
            ),
          },
          {
            title: t('artifacts.tags'),
            render: (_: unknown, a) => (
              <Space size={[4, 4]} wrap>
                {(a.tags ?? []).map((tag) => (
                  <Tag key={tag.id} color="blue">
                    {tag.name}
                  </Tag>
                ))}
                {!a.tags?.length && (
                  <Typography.Text type="secondary" style={{ whiteSpace: 'nowrap' }}>
                    {t('artifacts.untagged')}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          {
            title: t('artifacts.type'),
            dataIndex: 'type',
            render: (v: string, a) => (
              <Space direction="vertical" size={4}>
                <Tag>{v}</Tag>
                <PlatformTags artifact={a} />
              </Space>
            ),
          },
          { title: t('artifacts.size'), dataIndex: 'size', align: 'right', onCell: noWrapCell, render: (n: number) => formatBytes(n) },
          { title: t('scan.vulnerabilities'), render: (_: unknown, a) => (scannable(a) ? <ScanStatus artifact={a} /> : <Typography.Text type="secondary">—</Typography.Text>) },
          { title: t('artifacts.accessories'), render: (_: unknown, a) => <AccessoryIcons accessories={a.accessories} /> },
          {
            title: t('artifacts.labels'),
            render: (_: unknown, a) => (
              <ArtifactLabels
                artifact={a}
                base={base!}
                projectId={project.data?.project_id}
                canAdd={can('artifact-label', 'create')}
                canRemove={can('artifact-label', 'delete')}
                onChange={() => qc.invalidateQueries({ queryKey: ['artifacts', projectId, repo] })}
              />
            ),
          },
          { title: t('artifacts.pushTime'), dataIndex: 'push_time', onCell: noWrapCell, render: formatDate },
          { title: t('artifacts.pullTime'), dataIndex: 'pull_time', onCell: noWrapCell, render: formatDate },
          {
            title: t('common.actions'),
            render: (_: unknown, a) => (
              <Space>
                <CopyButton text={pullCommand(pname, repo, a.tags?.[0] ? { tag: a.tags[0].name } : { digest: a.digest })} label={t('artifacts.copyPull')} />
                {can('scan', 'create') && scannable(a) && !scanBusy(a) && (
                  <ScanButton base={base!} digest={a.digest!} onDone={() => qc.invalidateQueries({ queryKey: ['artifacts', projectId, repo] })} />
                )}
                {can('artifact', 'delete') && <DeleteButton onConfirm={() => remove(a)} />}
              </Space>
            ),
          },
        ]}
      />
    </>
  );
}
