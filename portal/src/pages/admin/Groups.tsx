// User groups (LDAP/HTTP/OIDC) that can be project members: list, create, delete.
import { useState } from 'react';
import { Button, Form, Input, Modal, Select, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client.ts';
import { useEndpoint } from '../../api/hooks.ts';
import type { UserGroup } from '../../api/types.ts';
import { DeleteButton, ErrorAlert, NotAvailable, PageTitle, useNotify, usePaged } from '../../components/common.tsx';

const TYPES: Record<number, string> = { 1: 'LDAP', 2: 'HTTP', 3: 'OIDC' };

export default function Groups() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const exists = useEndpoint('/usergroups');
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<{ group_name: string; group_type: number; ldap_group_dn?: string }>();
  const groupType = Form.useWatch('group_type', form);
  const list = usePaged<UserGroup>(['usergroups'], exists.data ? '/usergroups' : null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['usergroups'] });

  const create = async () => {
    const v = await form.validateFields();
    try {
      await call('POST', '/usergroups', { body: { group_name: v.group_name.trim(), group_type: v.group_type, ldap_group_dn: v.group_type === 1 ? v.ldap_group_dn : undefined } });
      notify.ok();
      setCreating(false);
      form.resetFields();
      await refresh();
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <>
      <PageTitle
        extra={
          exists.data && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              {t('groups.new')}
            </Button>
          )
        }
      >
        {t('nav.groups')}
      </PageTitle>
      {exists.data === false ? (
        <NotAvailable />
      ) : (
        <>
          <ErrorAlert error={list.query.error} />
          <Table<UserGroup>
            rowKey="id"
            loading={list.query.isFetching}
            dataSource={list.rows}
            pagination={list.pagination}
            columns={[
              { title: t('groups.name'), dataIndex: 'group_name' },
              { title: t('groups.type'), dataIndex: 'group_type', render: (v: number) => <Tag>{TYPES[v] ?? v}</Tag> },
              { title: t('groups.dn'), dataIndex: 'ldap_group_dn' },
              {
                title: t('common.actions'),
                render: (_: unknown, g) => (
                  <DeleteButton
                    onConfirm={async () => {
                      try {
                        await call('DELETE', `/usergroups/${g.id}`);
                        notify.ok(t('common.deleted'));
                        await refresh();
                      } catch (e) {
                        notify.fail(e);
                      }
                    }}
                  />
                ),
              },
            ]}
          />
        </>
      )}
      <Modal open={creating} title={t('groups.new')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={create} onCancel={() => setCreating(false)} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ group_type: 1 }}>
          <Form.Item name="group_type" label={t('groups.type')}>
            <Select options={Object.entries(TYPES).map(([v, l]) => ({ value: Number(v), label: l }))} />
          </Form.Item>
          <Form.Item name="group_name" label={t('groups.name')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input />
          </Form.Item>
          {groupType === 1 && (
            <Form.Item name="ldap_group_dn" label={t('groups.dn')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input placeholder="cn=devs,ou=groups,dc=example,dc=com" />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </>
  );
}
