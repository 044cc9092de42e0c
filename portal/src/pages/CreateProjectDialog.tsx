// New project: name, public/private, and (system admins) a storage quota and the proxy cache (a project that
// pulls through from a registry endpoint; Harbor's "Proxy Cache" switch). Loaded when first opened.
import { Form, Input, InputNumber, Modal, Select, Space, Switch } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import type { RegistryEndpoint } from '../api/types.ts';
import { ok, typed } from '../api/typed.ts';
import { useNotify } from '../components/common.tsx';

const UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

interface CreateForm {
  project_name: string;
  public: boolean;
  limit: number | null;
  unit: keyof typeof UNITS;
  proxy: boolean;
  registry_id?: number;
}

/** Endpoint types a proxy-cache project may use (the server's list). */
const PROXY_TYPES = ['harbor', 'docker-registry', 'oci'];

export default function CreateProjectDialog({ admin, onClose }: { admin: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [form] = Form.useForm<CreateForm>();
  const proxy = Form.useWatch('proxy', form);
  // Only system admins may create proxy-cache projects, and only they may list endpoints.
  const registries = useQuery({ queryKey: ['registries', 'all'], enabled: admin && !!proxy, queryFn: () => get<RegistryEndpoint[]>('/registries', { page_size: 100 }) });

  const create = async () => {
    // Invalid fields show their messages in the form; nothing else to do.
    const v = await form.validateFields().catch(() => null);
    if (!v) return;
    const body = {
      project_name: v.project_name.trim(),
      metadata: { public: String(v.public) },
      ...(admin ? { storage_limit: v.limit === null || v.limit === undefined || v.limit < 0 ? -1 : Math.round(v.limit * UNITS[v.unit]) } : {}),
      ...(admin && v.proxy && v.registry_id ? { registry_id: v.registry_id } : {}),
    };
    try {
      await ok(typed.POST('/projects', { body }));
      notify.ok(t('projects.created', { name: body.project_name }));
      onClose();
      await qc.invalidateQueries({ queryKey: ['projects'] });
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <Modal open title={t('projects.new')} okText={t('common.create')} cancelText={t('common.cancel')} onOk={create} onCancel={onClose} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={{ public: false, limit: -1, unit: 'GiB', proxy: false }}>
        <Form.Item
          name="project_name"
          label={t('projects.name')}
          rules={[
            { required: true, message: t('validation.required') },
            { pattern: /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, message: t('validation.projectName') },
            { max: 255 },
          ]}
        >
          <Input id="project-name" autoFocus />
        </Form.Item>
        <Form.Item name="public" label={t('projects.public')} valuePropName="checked" extra={t('projects.publicHint')}>
          <Switch aria-label={t('projects.public')} />
        </Form.Item>
        {admin && (
          <Form.Item label={t('projects.storageLimit')} extra={t('projects.storageLimitHint')}>
            <Space.Compact>
              <Form.Item name="limit" noStyle>
                <InputNumber min={-1} aria-label={t('projects.storageLimit')} style={{ width: 160 }} />
              </Form.Item>
              <Form.Item name="unit" noStyle>
                <Select style={{ width: 90 }} options={Object.keys(UNITS).map((u) => ({ value: u, label: u }))} aria-label={t('projects.unit')} />
              </Form.Item>
            </Space.Compact>
          </Form.Item>
        )}
        {admin && (
          <Form.Item name="proxy" label={t('projects.proxyCache')} valuePropName="checked" extra={t('projects.proxyCacheHint')}>
            <Switch id="project-proxy" aria-label={t('projects.proxyCache')} />
          </Form.Item>
        )}
        {admin && proxy && (
          <Form.Item name="registry_id" label={t('projects.endpoint')} rules={[{ required: true, message: t('validation.required') }]}>
            <Select
              id="project-endpoint"
              loading={registries.isLoading}
              placeholder={t('projects.endpointPlaceholder')}
              options={(registries.data ?? []).filter((r) => PROXY_TYPES.includes(r.type ?? '')).map((r) => ({ value: r.id, label: `${r.name}-${r.url}` }))}
            />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
