// New project: name, public/private, and (system admins) a storage quota. Loaded when first opened.
import { Form, Input, InputNumber, Modal, Select, Space, Switch } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ok, typed } from '../api/typed.ts';
import { useNotify } from '../components/common.tsx';

const UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

interface CreateForm {
  project_name: string;
  public: boolean;
  limit: number | null;
  unit: keyof typeof UNITS;
}

export default function CreateProjectDialog({ admin, onClose }: { admin: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [form] = Form.useForm<CreateForm>();

  const create = async () => {
    const v = await form.validateFields();
    const body = {
      project_name: v.project_name.trim(),
      metadata: { public: String(v.public) },
      ...(admin ? { storage_limit: v.limit === null || v.limit === undefined || v.limit < 0 ? -1 : Math.round(v.limit * UNITS[v.unit]) } : {}),
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
      <Form form={form} layout="vertical" initialValues={{ public: false, limit: -1, unit: 'GiB' }}>
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
      </Form>
    </Modal>
  );
}
