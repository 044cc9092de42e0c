// A project's repositories: search, artifact/pull counts, delete (repository:delete).
import { useState } from 'react';
import { Link } from 'react-router';
import { Input, Space, Table } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, repoInProject, repoPath } from '../../api/client.ts';
import type { Repository } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, useNotify, usePaged } from '../../components/common.tsx';
import { noWrapCell } from './artifact-bits.tsx';
import { formatDate, formatNumber } from '../../format.ts';
import type { ProjectTabProps } from './tab-props.ts';

export default function Repositories({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [search, setSearch] = useState('');
  const pname = project.name ?? '';
  const base = `/projects/${encodeURIComponent(pname)}/repositories`;
  const list = usePaged<Repository>(['repositories', project.project_id], base, { q: search ? `name=~${search}` : undefined, sort: '-update_time' });

  const remove = async (r: Repository) => {
    try {
      await call('DELETE', `${base}/${repoPath(repoInProject(pname, r.name ?? ''))}`);
      notify.ok(t('common.deleted'));
      await qc.invalidateQueries({ queryKey: ['repositories', project.project_id] });
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Input.Search
          allowClear
          placeholder={t('repositories.search')}
          aria-label={t('repositories.search')}
          onSearch={(v) => {
            setSearch(v.trim().replace(/[,=~{}()[\]]/g, ''));
            list.reset();
          }}
          style={{ width: 260 }}
        />
      </Space>
      <ErrorAlert error={list.query.error} />
      <Table<Repository>
        rowKey="id"
        data-testid="repositories-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          {
            title: t('repositories.name'),
            dataIndex: 'name',
            render: (name: string) => (
              <Link to={`/projects/${project.project_id}/repositories/${encodeURIComponent(repoInProject(pname, name))}`}>{name}</Link>
            ),
          },
          { title: t('repositories.artifacts'), dataIndex: 'artifact_count', align: 'right', render: (n: number) => formatNumber(n) },
          { title: t('repositories.pulls'), dataIndex: 'pull_count', align: 'right', render: (n: number) => formatNumber(n) },
          { title: t('common.updateTime'), dataIndex: 'update_time', onCell: noWrapCell, render: formatDate },
          ...(can('repository', 'delete') ? [{ title: t('common.actions'), key: 'actions', render: (_: unknown, r: Repository) => <DeleteButton onConfirm={() => remove(r)} /> }] : []),
        ]}
      />
    </>
  );
}
