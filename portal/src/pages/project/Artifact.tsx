// One artifact: overview, tags (add/delete per permissions), layers, build history, Helm readme/values,
// accessories (signatures, SBOMs, ...), referenced platforms, labels, and the copy-pull command.
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { Breadcrumb, Button, Descriptions, Empty, Form, Input, Modal, Space, Spin, Table, Tabs, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, call, get, repoPath } from '../../api/client.ts';
import { usePermissions } from '../../api/hooks.ts';
import type { Accessory, Artifact, BuildHistoryEntry, Project, Tag as HarborTag } from '../../api/types.ts';
import { CopyButton, DeleteButton, ErrorAlert, PageTitle, useNotify } from '../../components/common.tsx';
import { formatBytes, formatDate, shortDigest } from '../../format.ts';
import { pullCommand } from './pull.ts';
import { ScanButton, ScanStatus, VulnerabilitiesTable, scanBusy, scannable } from './scan-bits.tsx';

interface Layer {
  mediaType?: string;
  digest: string;
  size: number;
}

/** The image manifest's layers, read through the registry API with a pull token from the session. */
async function fetchLayers(project: string, repo: string, digest: string): Promise<Layer[] | null> {
  const scope = `repository:${project}/${repo}:pull`;
  const tok = await fetch(`/service/token?scope=${encodeURIComponent(scope)}`, { credentials: 'same-origin' });
  if (!tok.ok) return null;
  const body = (await tok.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) return null;
  const m = await fetch(`/v2/${project}/${repo}/manifests/${digest}`, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json',
    },
  });
  if (!m.ok) return null;
  const manifest = (await m.json()) as { layers?: Layer[] };
  return manifest.layers ?? null;
}

export default function ArtifactPage() {
  const { t } = useTranslation();
  const { projectId, repo = '', reference = '' } = useParams();
  const qc = useQueryClient();
  const notify = useNotify();
  const can = usePermissions(projectId ? `/project/${projectId}` : null);
  const [addingTag, setAddingTag] = useState(false);
  const [tagForm] = Form.useForm<{ name: string }>();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => get<Project>(`/projects/${projectId}`) });
  const pname = project.data?.name ?? '';
  const base = `/projects/${encodeURIComponent(pname)}/repositories/${repoPath(repo)}/artifacts/${encodeURIComponent(reference)}`;
  const artifact = useQuery({
    queryKey: ['artifact', projectId, repo, reference],
    queryFn: () => get<Artifact>(base, { with_tag: true, with_label: true, with_accessory: true, with_scan_overview: true }),
    // A queued or running scan moves on by itself.
    refetchInterval: (q) => (q.state.data && scanBusy(q.state.data) ? 2000 : false),
    enabled: !!pname,
  });
  const a = artifact.data;
  const addition = (name: string, text = false) =>
    useQuery({
      queryKey: ['addition', projectId, repo, reference, name],
      queryFn: async () => {
        try {
          const r = await call<unknown>('GET', `${base}/additions/${name}`, { text });
          return r.data;
        } catch (e) {
          if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return null;
          throw e;
        }
      },
      enabled: !!a,
      retry: false,
    });
  const history = addition('build_history');
  const isChart = a?.type?.toUpperCase() === 'CHART';
  const readme = useQuery({
    queryKey: ['addition', projectId, repo, reference, 'readme', isChart],
    queryFn: () => call<string>('GET', `${base}/additions/readme.md`, { text: true }).then((r) => r.data, () => null),
    enabled: isChart,
  });
  const values = useQuery({
    queryKey: ['addition', projectId, repo, reference, 'values', isChart],
    queryFn: () => call<string>('GET', `${base}/additions/values.yaml`, { text: true }).then((r) => r.data, () => null),
    enabled: isChart,
  });
  const accessories = useQuery({
    queryKey: ['accessories', projectId, repo, reference],
    queryFn: () => get<Accessory[]>(`${base}/accessories`).catch(() => a?.accessories ?? []),
    enabled: !!a,
  });
  const layers = useQuery({
    queryKey: ['layers', projectId, repo, a?.digest],
    queryFn: () => fetchLayers(pname, repo, a?.digest ?? '').catch(() => null),
    enabled: !!a?.digest && a.type?.toUpperCase() !== 'CHART',
    retry: false,
  });

  if (project.error || artifact.error) return <ErrorAlert error={project.error ?? artifact.error} />;
  if (!a) return <Spin />;
  const refresh = () => qc.invalidateQueries({ queryKey: ['artifact', projectId, repo, reference] });

  const addTag = async () => {
    const v = await tagForm.validateFields();
    try {
      await call('POST', `${base}/tags`, { body: { name: v.name.trim() } });
      notify.ok();
      setAddingTag(false);
      tagForm.resetFields();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const deleteTag = async (tag: HarborTag) => {
    if (tag.name === undefined) return;
    try {
      await call('DELETE', `${base}/tags/${encodeURIComponent(tag.name)}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  const historyRows = Array.isArray(history.data) ? (history.data as BuildHistoryEntry[]) : [];
  const cfg = (a.extra_attrs ?? {}) as Record<string, unknown>;
  const pull = pullCommand(pname, repo, a.tags?.[0] ? { tag: a.tags[0].name } : { digest: a.digest });
  const layerRows: Layer[] =
    layers.data ??
    historyRows
      .filter((h) => !h.empty_layer)
      .map((h, i) => ({ digest: `#${i + 1}`, size: -1, mediaType: h.created_by }));

  const artifactsBase = base.slice(0, base.lastIndexOf('/'));
  const tabs = [
    {
      key: 'tags',
      label: t('artifacts.tags'),
      children: (
        <>
          {can('tag', 'create') && (
            <Button icon={<PlusOutlined />} onClick={() => setAddingTag(true)} style={{ marginBottom: 12 }}>
              {t('artifacts.addTag')}
            </Button>
          )}
          <Table<HarborTag>
            rowKey="id"
            size="small"
            data-testid="tags-table"
            dataSource={a.tags ?? []}
            pagination={false}
            columns={[
              { title: t('artifacts.tag'), dataIndex: 'name', render: (n: string) => <Tag color="blue">{n}</Tag> },
              { title: t('artifacts.pushTime'), dataIndex: 'push_time', render: formatDate },
              { title: t('artifacts.pullTime'), dataIndex: 'pull_time', render: formatDate },
              {
                title: t('common.actions'),
                render: (_: unknown, tag) => (
                  <Space>
                    <CopyButton text={pullCommand(pname, repo, { tag: tag.name })} label={t('artifacts.copyPull')} />
                    {can('tag', 'delete') && <DeleteButton onConfirm={() => deleteTag(tag)} />}
                  </Space>
                ),
              },
            ]}
          />
        </>
      ),
    },
    ...(scannable(a)
      ? [
          {
            key: 'vulnerabilities',
            label: t('scan.vulnerabilities'),
            children: (
              <>
                <Space style={{ marginBottom: 12 }}>
                  <ScanStatus artifact={a} />
                  {can('scan', 'create') && !scanBusy(a) && <ScanButton base={artifactsBase} digest={a.digest!} onDone={refresh} size="middle" />}
                </Space>
                <VulnerabilitiesTable base={base} artifact={a} />
              </>
            ),
          },
        ]
      : []),
    {
      key: 'layers',
      label: t('artifacts.layers'),
      children: (
        <Table<Layer>
          rowKey={(l, i) => `${l.digest}-${i}`}
          size="small"
          data-testid="layers-table"
          loading={layers.isLoading}
          dataSource={layerRows}
          pagination={false}
          locale={{ emptyText: <Empty description={t('artifacts.noLayers')} /> }}
          columns={[
            { title: '#', render: (_: unknown, _l, i) => i + 1, width: 50 },
            { title: t('artifacts.digest'), dataIndex: 'digest', render: (d: string) => <Typography.Text code>{shortDigest(d)}</Typography.Text> },
            { title: t('artifacts.mediaType'), dataIndex: 'mediaType', ellipsis: true },
            { title: t('artifacts.size'), dataIndex: 'size', align: 'right', render: (n: number) => (n >= 0 ? formatBytes(n) : '—') },
          ]}
        />
      ),
    },
    {
      key: 'history',
      label: t('artifacts.buildHistory'),
      children: (
        <Table<BuildHistoryEntry>
          rowKey={(_h, i) => String(i)}
          size="small"
          data-testid="history-table"
          loading={history.isLoading}
          dataSource={historyRows}
          pagination={false}
          columns={[
            { title: t('artifacts.created'), dataIndex: 'created', render: formatDate, width: 200 },
            { title: t('artifacts.command'), dataIndex: 'created_by', render: (c: string) => <Typography.Text code style={{ whiteSpace: 'pre-wrap' }}>{c}</Typography.Text> },
          ]}
        />
      ),
    },
    ...(isChart
      ? [
          { key: 'readme', label: t('artifacts.readme'), children: <pre style={{ whiteSpace: 'pre-wrap' }}>{readme.data ?? t('artifacts.none')}</pre> },
          { key: 'values', label: t('artifacts.values'), children: <pre style={{ whiteSpace: 'pre-wrap' }}>{values.data ?? t('artifacts.none')}</pre> },
        ]
      : []),
    {
      key: 'accessories',
      label: t('artifacts.accessories'),
      children: (
        <Table<Accessory>
          rowKey="id"
          size="small"
          dataSource={accessories.data ?? []}
          pagination={false}
          columns={[
            { title: t('artifacts.type'), dataIndex: 'type', render: (v: string) => <Tag>{v}</Tag> },
            { title: t('artifacts.digest'), dataIndex: 'digest', render: (d: string) => <Typography.Text code>{shortDigest(d)}</Typography.Text> },
            { title: t('artifacts.size'), dataIndex: 'size', render: formatBytes },
            { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          ]}
        />
      ),
    },
    ...(a.references?.length
      ? [
          {
            key: 'references',
            label: t('artifacts.references'),
            children: (
              <Table
                rowKey="child_id"
                size="small"
                dataSource={a.references}
                pagination={false}
                columns={[
                  { title: t('artifacts.digest'), dataIndex: 'child_digest', render: (d: string) => <Link to={`../artifacts/${d}`} relative="path">{shortDigest(d)}</Link> },
                  { title: t('artifacts.platform'), render: (_: unknown, r) => [r.platform?.os, r.platform?.architecture, r.platform?.variant].filter(Boolean).join('/') || '—' },
                ]}
              />
            ),
          },
        ]
      : []),
  ];

  return (
    <>
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[
          { title: <Link to="/projects">{t('nav.projects')}</Link> },
          { title: <Link to={`/projects/${projectId}/repositories`}>{pname}</Link> },
          { title: <Link to={`/projects/${projectId}/repositories/${encodeURIComponent(repo)}`}>{repo}</Link> },
          { title: shortDigest(a.digest ?? '') },
        ]}
      />
      <PageTitle extra={<CopyButton text={pull} label={t('artifacts.copyPull')} />}>
        {repo}@{shortDigest(a.digest ?? '')}
      </PageTitle>
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }} data-testid="artifact-overview">
        <Descriptions.Item label={t('artifacts.digest')}>
          <Typography.Text code copyable>
            {a.digest}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('artifacts.type')}>{a.type}</Descriptions.Item>
        <Descriptions.Item label={t('artifacts.mediaType')}>{a.manifest_media_type || a.media_type}</Descriptions.Item>
        <Descriptions.Item label={t('artifacts.size')}>{formatBytes(a.size)}</Descriptions.Item>
        <Descriptions.Item label={t('artifacts.pushTime')}>{formatDate(a.push_time)}</Descriptions.Item>
        <Descriptions.Item label={t('artifacts.pullTime')}>{formatDate(a.pull_time)}</Descriptions.Item>
        {typeof cfg.os === 'string' && (
          <Descriptions.Item label={t('artifacts.platform')}>{[cfg.os, cfg.architecture].filter(Boolean).join('/')}</Descriptions.Item>
        )}
        {(a.labels?.length ?? 0) > 0 && (
          <Descriptions.Item label={t('project.labels')}>
            {a.labels!.map((l) => (
              <Tag key={l.id} color={l.color || undefined}>
                {l.name}
              </Tag>
            ))}
          </Descriptions.Item>
        )}
        <Descriptions.Item label={t('artifacts.pullCommand')} span={2}>
          <Typography.Text code>{pull}</Typography.Text>
        </Descriptions.Item>
      </Descriptions>
      <Tabs items={tabs} />
      <Modal open={addingTag} title={t('artifacts.addTag')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={addTag} onCancel={() => setAddingTag(false)} destroyOnHidden>
        <Form form={tagForm} layout="vertical">
          <Form.Item name="name" label={t('artifacts.tag')} rules={[{ required: true, pattern: /^[\w][\w.-]{0,127}$/, message: t('validation.tag') }]}>
            <Input autoFocus />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
