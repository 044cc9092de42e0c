// Project labels: list, create (label:create), delete (label:delete).
import { useState } from 'react';
import { Button, ColorPicker, Form, Input, Modal, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client.ts';
import { useEndpoint } from '../../api/hooks.ts';
import type { Label } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, NotAvailable, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';
import type { ProjectTabProps } from './tab-props.ts';

export default function Labels({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const exists = useEndpoint('/labels?scope=g');
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<{ name: string; description?: string; color?: unknown }>();
  const list = usePaged<Label>(['labels', project.project_id], exists.data ? '/labels' : null, { scope: 'p', project_id: project.project_id });
  if (exists.data === false) return <NotAvailable />;
  const refresh = () => qc.invalidateQueries({ queryKey: ['labels', project.project_id] });

  const create = async () => {
    const v = await form.validateFields();
    const color = typeof v.color === 'string' ? v.color : v.color && typeof v.color === 'object' && 'toHexString' in v.color ? (v.color as { toHexString(): string }).toHexString() : '#1677ff';
    try {
      await call('POST', '/labels', { body: { name: v.name.trim(), description: v.description ?? '', color, scope: 'p', project_id: project.project_id } });
      notify.ok();
      setCreating(false);
      form.resetFields();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const remove = async (l: Label) => {
    try {
      await call('DELETE', `/labels/${l.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      {can('label', 'create') && (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ marginBottom: 12 }}>
          {t('labels.new')}
        </Button>
      )}
      <ErrorAlert error={list.query.error} />
      <Table<Label>
        rowKey="id"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('labels.name'), render: (_: unknown, l) => <Tag color={l.color || undefined}>{l.name}</Tag> },
          { title: t('common.description'), dataIndex: 'description' },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          ...(can('label', 'delete') ? [{ title: t('common.actions'), key: 'a', render: (_: unknown, l: Label) => <DeleteButton onConfirm={() => remove(l)} /> }] : []),
        ]}
      />
      <Modal open={creating} title={t('labels.new')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={create} onCancel={() => setCreating(false)} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ color: '#1677ff' }}>
          <Form.Item name="name" label={t('labels.name')} rules={[{ required: true, message: t('validation.required') }, { max: 128 }]}>
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="description" label={t('common.description')}>
            <Input />
          </Form.Item>
          <Form.Item name="color" label={t('labels.color')}>
            <ColorPicker />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
