// Audit log table with Harbor's q filters (username, operation, resource, op_time range), server-side paged.
import { useState } from 'react';
import { Button, DatePicker, Form, Input, Select, Space, Table, Tag } from 'antd';
import type { Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import type { AuditLog } from '../api/types.ts';
import { ErrorAlert, usePaged } from './common.tsx';
import { formatDate } from '../format.ts';

const OPS = ['create', 'delete', 'pull', 'update', 'login', 'logout'];
const clean = (s: string) => s.replace(/[,=~{}()[\]"]/g, '').trim();
const qTime = (d: Dayjs) => d.format('YYYY-MM-DD HH:mm:ss');

export default function AuditTable({ path, queryKey }: { path: string; queryKey: unknown[] }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const list = usePaged<AuditLog>(queryKey, path, { q: q || undefined, sort: '-op_time' });

  const apply = (v: { username?: string; resource?: string; operation?: string; range?: [Dayjs, Dayjs] | null }) => {
    const parts: string[] = [];
    if (v.username && clean(v.username)) parts.push(`username=~${clean(v.username)}`);
    if (v.resource && clean(v.resource)) parts.push(`resource=~${clean(v.resource)}`);
    if (v.operation) parts.push(`operation=${v.operation}`);
    if (v.range?.[0] && v.range[1]) parts.push(`op_time=[${qTime(v.range[0])}~${qTime(v.range[1])}]`);
    setQ(parts.join(','));
    list.reset();
  };

  return (
    <>
      <Form layout="inline" onFinish={apply} style={{ marginBottom: 12, rowGap: 8 }} aria-label={t('audit.filters')}>
        <Form.Item name="username" label={t('audit.username')}>
          <Input allowClear style={{ width: 150 }} />
        </Form.Item>
        <Form.Item name="resource" label={t('audit.resource')}>
          <Input allowClear style={{ width: 180 }} />
        </Form.Item>
        <Form.Item name="operation" label={t('audit.operation')}>
          <Select allowClear style={{ width: 130 }} options={OPS.map((o) => ({ value: o, label: t(`audit.ops.${o}`) }))} />
        </Form.Item>
        <Form.Item name="range" label={t('audit.time')}>
          <DatePicker.RangePicker showTime />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t('common.search')}
          </Button>
        </Space>
      </Form>
      <ErrorAlert error={list.query.error} />
      <Table<AuditLog>
        rowKey="id"
        data-testid="audit-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('audit.username'), dataIndex: 'username' },
          { title: t('audit.resource'), dataIndex: 'resource' },
          { title: t('audit.resourceType'), dataIndex: 'resource_type' },
          { title: t('audit.operation'), dataIndex: 'operation', render: (o: string) => <Tag>{OPS.includes(o) ? t(`audit.ops.${o}`) : o}</Tag> },
          { title: t('audit.time'), dataIndex: 'op_time', render: formatDate },
        ]}
      />
    </>
  );
}
