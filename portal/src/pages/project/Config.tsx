// Project configuration: public, and the policy switches whose backends land later (shown disabled, explained).
import { Alert, Card, Form, Select, Space, Switch, Typography } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client.ts';
import { useNotify } from '../../components/common.tsx';
import type { ProjectTabProps } from './tab-props.ts';

/** Metadata keys this server enforces; the others are stored by Harbor but have no effect here yet. */
const SUPPORTED = new Set(['public']);
const SWITCHES = ['public', 'auto_scan', 'prevent_vul', 'enable_content_trust', 'enable_content_trust_cosign'] as const;

export default function Config({ project, can }: ProjectTabProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const editable = can('metadata', 'update') || can('self', 'update');
  const meta = project.metadata ?? {};

  const set = async (key: string, value: boolean) => {
    try {
      await call('PUT', `/projects/${project.project_id}`, { body: { metadata: { [key]: String(value) } } });
      notify.ok();
      await qc.invalidateQueries({ queryKey: ['project', String(project.project_id)] });
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <Card>
      <Form layout="vertical" style={{ maxWidth: 640 }}>
        {SWITCHES.map((key) => {
          const supported = SUPPORTED.has(key);
          return (
            <Form.Item key={key} label={t(`projectConfig.${key}`)} extra={supported ? t(`projectConfig.${key}Hint`) : t('projectConfig.notEnforced')}>
              <Space>
                <Switch
                  checked={meta[key] === 'true'}
                  disabled={!editable || !supported}
                  onChange={(v) => void set(key, v)}
                  aria-label={t(`projectConfig.${key}`)}
                  data-testid={`config-${key}`}
                />
                {key === 'prevent_vul' && (
                  <Select size="small" disabled value={meta.severity ?? 'low'} style={{ width: 120 }} aria-label={t('projectConfig.severity')} options={['none', 'low', 'medium', 'high', 'critical'].map((s) => ({ value: s, label: t(`severity.${s}`) }))} />
                )}
              </Space>
            </Form.Item>
          );
        })}
      </Form>
      {!editable && <Alert type="info" showIcon title={t('projectConfig.readOnly')} />}
      <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>
        {t('projectConfig.note')}
      </Typography.Paragraph>
    </Card>
  );
}
