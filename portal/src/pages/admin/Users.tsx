// Users (system admins): search, create, grant/revoke admin, reset password, delete.
import { useState } from 'react';
import { Button, Form, Input, Modal, Space, Switch, Table } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client.ts';
import { useCurrentUser } from '../../api/hooks.ts';
import type { UserResp } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

export default function Users() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const me = useCurrentUser();
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<UserResp | null>(null);
  const [form] = Form.useForm();
  const [pwForm] = Form.useForm<{ new_password: string }>();
  const list = usePaged<UserResp>(['users'], '/users', { username: search || undefined, sort: 'username' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['users'] });
  const act = async (f: () => Promise<unknown>, ok?: string) => {
    try {
      await f();
      notify.ok(ok);
      await refresh();
      return true;
    } catch (e) {
      notify.fail(e);
      return false;
    }
  };

  const create = async () => {
    const v = await form.validateFields();
    if (await act(() => call('POST', '/users', { body: { username: v.username, email: v.email, realname: v.realname, password: v.password, comment: v.comment ?? '' } }))) {
      setCreating(false);
      form.resetFields();
    }
  };
  const resetPassword = async () => {
    const v = await pwForm.validateFields();
    if (resetting && (await act(() => call('PUT', `/users/${resetting.user_id}/password`, { body: { new_password: v.new_password } })))) {
      setResetting(null);
      pwForm.resetFields();
    }
  };

  return (
    <>
      <PageTitle
        extra={
          <Space>
            <Input.Search allowClear placeholder={t('users.search')} aria-label={t('users.search')} onSearch={(v) => { setSearch(v.trim()); list.reset(); }} style={{ width: 240 }} />
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              {t('users.new')}
            </Button>
          </Space>
        }
      >
        {t('nav.users')}
      </PageTitle>
      <ErrorAlert error={list.query.error} />
      <Table<UserResp>
        rowKey="user_id"
        data-testid="users-table"
        loading={list.query.isFetching}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('auth.username'), dataIndex: 'username' },
          { title: t('users.email'), dataIndex: 'email' },
          { title: t('users.realname'), dataIndex: 'realname' },
          {
            title: t('users.admin'),
            render: (_: unknown, u) => (
              <Switch
                size="small"
                checked={u.sysadmin_flag}
                disabled={u.user_id === me.data?.user_id}
                aria-label={t('users.admin')}
                onChange={(v) => void act(() => call('PUT', `/users/${u.user_id}/sysadmin`, { body: { sysadmin_flag: v } }))}
              />
            ),
          },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          {
            title: t('common.actions'),
            render: (_: unknown, u) =>
              u.user_id === me.data?.user_id ? null : (
                <Space>
                  <Button size="small" onClick={() => setResetting(u)}>
                    {t('users.resetPassword')}
                  </Button>
                  <DeleteButton onConfirm={() => act(() => call('DELETE', `/users/${u.user_id}`), t('common.deleted'))} />
                </Space>
              ),
          },
        ]}
      />
      <Modal open={creating} title={t('users.new')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={create} onCancel={() => setCreating(false)} destroyOnHidden>
        <Form form={form} layout="vertical">
          <Form.Item name="username" label={t('auth.username')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="email" label={t('users.email')} rules={[{ required: true, type: 'email', message: t('validation.email') }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="realname" label={t('users.realname')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, min: 8, message: t('validation.password') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="comment" label={t('users.comment')}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={resetting !== null} title={t('users.resetPassword')} okText={t('common.save')} cancelText={t('common.cancel')} onOk={resetPassword} onCancel={() => setResetting(null)} destroyOnHidden>
        <Form form={pwForm} layout="vertical">
          <Form.Item name="new_password" label={t('users.newPassword')} rules={[{ required: true, min: 8, message: t('validation.password') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
