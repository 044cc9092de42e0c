// Project members (users and groups) with roles; adding, changing roles and removing need member:* permissions.
import { useState } from 'react';
import { Button, Form, Input, Modal, Radio, Select, Space, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, getPage } from '../../api/client.ts';
import { ok, typed } from '../../api/typed.ts';
import { useEndpoint } from '../../api/hooks.ts';
import { ROLE_KEYS, type ProjectMember, type UserGroup } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, useNotify, usePaged } from '../../components/common.tsx';
import type { ProjectTabProps } from './tab-props.ts';

const ROLE_IDS = [1, 4, 2, 3, 5];

interface AddForm {
  kind: 'user' | 'group';
  username?: string;
  group_id?: number;
  role_id: number;
}

export default function Members({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [adding, setAdding] = useState(false);
  const [form] = Form.useForm<AddForm>();
  const kind = Form.useWatch('kind', form);
  const base = `/projects/${project.project_id}/members`;
  const list = usePaged<ProjectMember>(['members', project.project_id], base);
  const groupsApi = useEndpoint('/usergroups');
  const groups = useQuery({
    queryKey: ['usergroups-all'],
    queryFn: () => getPage<UserGroup>('/usergroups', { page_size: 100 }).then((r) => r.items),
    enabled: adding && groupsApi.data === true,
  });
  const roleOptions = ROLE_IDS.map((id) => ({ value: id, label: t(`roles.${ROLE_KEYS[id]}`) }));
  const refresh = () => qc.invalidateQueries({ queryKey: ['members', project.project_id] });

  const add = async () => {
    const v = await form.validateFields();
    const body =
      v.kind === 'group' ? { role_id: v.role_id, member_group: { id: v.group_id } } : { role_id: v.role_id, member_user: { username: v.username?.trim() } };
    try {
      await ok(typed.POST('/projects/{project_name_or_id}/members', { params: { path: { project_name_or_id: String(project.project_id) } }, body }));
      notify.ok();
      setAdding(false);
      form.resetFields();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const setRole = async (m: ProjectMember, role_id: number) => {
    try {
      await call('PUT', `${base}/${m.id}`, { body: { role_id } });
      notify.ok();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };
  const remove = async (m: ProjectMember) => {
    try {
      await call('DELETE', `${base}/${m.id}`);
      notify.ok(t('common.deleted'));
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      {can('member', 'create') && (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)} style={{ marginBottom: 12 }} data-testid="add-member">
          {t('members.add')}
        </Button>
      )}
      <ErrorAlert error={list.query.error} />
      <Table<ProjectMember>
        rowKey="id"
        data-testid="members-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('members.name'), dataIndex: 'entity_name' },
          {
            title: t('members.type'),
            dataIndex: 'entity_type',
            render: (v: string) => <Tag>{v === 'g' ? t('members.group') : t('members.user')}</Tag>,
          },
          {
            title: t('members.role'),
            render: (_: unknown, m) =>
              can('member', 'update') ? (
                <Select size="small" value={m.role_id} options={roleOptions} onChange={(r) => void setRole(m, r)} style={{ width: 160 }} aria-label={t('members.role')} />
              ) : (
                m.role_id === undefined ? '—' : t(`roles.${ROLE_KEYS[m.role_id]}`)
              ),
          },
          ...(can('member', 'delete') ? [{ title: t('common.actions'), key: 'a', render: (_: unknown, m: ProjectMember) => <DeleteButton onConfirm={() => remove(m)} /> }] : []),
        ]}
      />
      <Modal open={adding} title={t('members.add')} okText={t('common.add')} cancelText={t('common.cancel')} onOk={add} onCancel={() => setAdding(false)} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ kind: 'user', role_id: 2 }}>
          <Form.Item name="kind" label={t('members.type')}>
            <Radio.Group>
              <Radio value="user">{t('members.user')}</Radio>
              <Radio value="group" disabled={groupsApi.data !== true}>
                {t('members.group')}
              </Radio>
            </Radio.Group>
          </Form.Item>
          {kind === 'group' ? (
            <Form.Item name="group_id" label={t('members.group')} rules={[{ required: true, message: t('validation.required') }]}>
              <Select loading={groups.isLoading} options={(groups.data ?? []).map((g) => ({ value: g.id, label: g.group_name }))} showSearch optionFilterProp="label" />
            </Form.Item>
          ) : (
            <Form.Item name="username" label={t('members.username')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input id="member-username" autoComplete="off" />
            </Form.Item>
          )}
          <Form.Item name="role_id" label={t('members.role')}>
            <Radio.Group>
              <Space direction="vertical">
                {roleOptions.map((o) => (
                  <Radio key={o.value} value={o.value} data-testid={`role-${o.value}`}>
                    {o.label}
                  </Radio>
                ))}
              </Space>
            </Radio.Group>
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
