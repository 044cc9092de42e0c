// Pieces of an artifact row, as Harbor's portal shows them: accessory icons with their type as tooltip, the
// signed mark, the platforms of an image index and its expandable children, and the label picker.
import { Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { FileTextOutlined, PaperClipOutlined, SafetyCertificateFilled, SafetyCertificateOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { call, get } from '../../api/client.ts';
import type { Accessory, Artifact, Label, Reference } from '../../api/types.ts';
import { useNotify } from '../../components/common.tsx';
import { formatBytes, shortDigest } from '../../format.ts';

const NOWRAP = { whiteSpace: 'nowrap' } as const;
/** Cell props keeping digests, sizes, times and "untagged" on one line (no wrapping at 1440 px). */
export const noWrapCell = () => ({ style: NOWRAP });

const platformOf = (p: Reference['platform']): string => [p?.os, p?.architecture, p?.variant].filter(Boolean).join('/') || '—';

/** Harbor marks an artifact signed when a signature accessory (cosign, notation) is attached to it. */
export const isSigned = (a: Artifact): boolean => (a.accessories ?? []).some((x) => x.type?.startsWith('signature.') ?? false);

export function SignedMark({ artifact }: { artifact: Artifact }) {
  const { t } = useTranslation();
  if (!isSigned(artifact)) return null;
  return (
    <Tooltip title={t('artifacts.signed')}>
      <SafetyCertificateFilled data-testid="signed-mark" aria-label={t('artifacts.signed')} style={{ color: '#52c41a', marginLeft: 6 }} />
    </Tooltip>
  );
}

function accessoryIcon(type: string) {
  if (type.startsWith('signature.')) return SafetyCertificateOutlined;
  if (type.startsWith('sbom.')) return FileTextOutlined;
  if (type.startsWith('accelerator.')) return ThunderboltOutlined;
  return PaperClipOutlined;
}

export function AccessoryIcons({ accessories }: { accessories: Accessory[] | null | undefined }) {
  const { t } = useTranslation();
  if (!accessories?.length) return <>—</>;
  return (
    <Space size={6} style={NOWRAP}>
      {accessories.map((x) => {
        const Icon = accessoryIcon(x.type ?? '');
        return (
          <Tooltip key={x.id} title={t('artifacts.accessoryType', { type: x.type })}>
            <Icon data-testid="accessory-icon" data-type={x.type} aria-label={x.type} />
          </Tooltip>
        );
      })}
    </Space>
  );
}

/** os/arch of each child of an index (nothing for a single-platform artifact). */
export function PlatformTags({ artifact }: { artifact: Artifact }) {
  if (!artifact.references?.length) return null;
  return (
    <Space size={[4, 4]} wrap data-testid="platforms">
      {artifact.references.map((r) => (
        <Tag key={r.child_digest} color="geekblue" style={{ marginInlineEnd: 0 }}>
          {platformOf(r.platform)}
        </Tag>
      ))}
    </Space>
  );
}

/** The expanded row of an index: its children with digest, platform and size (sizes read per child). */
export function IndexChildren({ artifact, base, linkBase }: { artifact: Artifact; base: string; linkBase: string }) {
  const { t } = useTranslation();
  const refs = artifact.references ?? [];
  const sizes = useQueries({
    queries: refs.map((r) => ({
      queryKey: ['artifact-size', base, r.child_digest],
      queryFn: () => get<Artifact>(`${base}/${r.child_digest}`).then((c) => c.size, () => null),
    })),
  });
  return (
    <Table<Reference>
      rowKey="child_digest"
      size="small"
      data-testid="index-children"
      title={() => t('artifacts.children')}
      dataSource={refs}
      pagination={false}
      columns={[
        {
          title: t('artifacts.digest'),
          dataIndex: 'child_digest',
          onCell: noWrapCell,
          render: (d: string) => (
            <Link to={`${linkBase}/${d}`}>
              <Typography.Text code>{shortDigest(d)}</Typography.Text>
            </Link>
          ),
        },
        { title: t('artifacts.platform'), render: (_: unknown, r) => platformOf(r.platform) },
        {
          title: t('artifacts.size'),
          align: 'right',
          onCell: noWrapCell,
          render: (_: unknown, _r, i) => (typeof sizes[i]?.data === 'number' ? formatBytes(sizes[i].data) : '—'),
        },
      ]}
    />
  );
}

/** Global and project labels, for the picker. */
/** Global labels, and the project's when its id is known. */
function useAssignableLabels(projectId: number | undefined) {
  return useQuery({
    queryKey: ['assignable-labels', projectId],
    queryFn: async () => {
      const [g, p] = await Promise.all([
        get<Label[]>('/labels', { scope: 'g', page_size: 100 }).catch(() => []),
        projectId === undefined ? Promise.resolve([]) : get<Label[]>('/labels', { scope: 'p', project_id: projectId, page_size: 100 }).catch(() => []),
      ]);
      return [...g, ...p];
    },
  });
}

/** An artifact's labels: removable tags (artifact-label:delete) and a picker adding one (artifact-label:create). */
export function ArtifactLabels({
  artifact,
  base,
  projectId,
  canAdd,
  canRemove,
  onChange,
}: {
  artifact: Artifact;
  base: string;
  projectId: number | undefined;
  canAdd: boolean;
  canRemove: boolean;
  onChange: () => Promise<unknown>;
}) {
  const { t } = useTranslation();
  const notify = useNotify();
  const all = useAssignableLabels(projectId);
  const mine = artifact.labels ?? [];
  const options = (all.data ?? []).filter((l) => !mine.some((m) => m.id === l.id)).map((l) => ({ value: l.id, label: l.name }));
  const run = async (method: 'POST' | 'DELETE', path: string, body?: unknown) => {
    try {
      await call(method, path, body === undefined ? {} : { body });
      notify.ok();
      await onChange();
    } catch (e) {
      notify.fail(e);
    }
  };
  return (
    <Space size={[4, 4]} wrap data-testid="artifact-labels">
      {mine.map((l) => (
        <Tag
          key={l.id}
          color={l.color || undefined}
          closable={canRemove}
          closeIcon={canRemove ? <span aria-label={t('artifacts.removeLabel', { name: l.name })}>×</span> : undefined}
          onClose={(e) => {
            e.preventDefault();
            void run('DELETE', `${base}/${artifact.digest}/labels/${l.id}`);
          }}
        >
          {l.name}
        </Tag>
      ))}
      {canAdd && (
        <Select<number>
          size="small"
          aria-label={t('artifacts.addLabel')}
          data-testid="label-picker"
          placeholder={t('artifacts.addLabel')}
          style={{ minWidth: 120 }}
          value={null}
          options={options}
          notFoundContent={t('artifacts.noLabels')}
          showSearch={{ optionFilterProp: 'label' }}
          onChange={(id) => void run('POST', `${base}/${artifact.digest}/labels`, { id })}
        />
      )}
    </Space>
  );
}
