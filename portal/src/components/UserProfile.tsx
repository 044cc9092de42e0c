// The user's profile (from the user menu): name and email, and for OIDC users the CLI secret docker and podman
// log in with (GET /users/current oidc_user_meta), shown on demand, copied, or regenerated (PUT /users/{id}/cli_secret).
import { useState } from 'react';
import { Button, Descriptions, Input, Modal, Space, Typography } from 'antd';
import { CopyOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call } from '../api/client.ts';
import { useCurrentUser } from '../api/hooks.ts';
import { useNotify } from './common.tsx';

export function UserProfile({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const qc = useQueryClient();
  const notify = useNotify();
  const [busy, setBusy] = useState(false);
  const u = me.data;
  const secret = u?.oidc_user_meta?.secret;

  const regenerate = async () => {
    if (!u) return;
    setBusy(true);
    try {
      // An empty secret: the server generates one that meets the rules.
      await call('PUT', `/users/${u.user_id}/cli_secret`, { body: { secret: '' } });
      await qc.invalidateQueries({ queryKey: ['current-user'] });
      notify.ok(t('profile.secretRegenerated'));
    } catch (e) {
      notify.fail(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal open={open} title={t('profile.title')} onCancel={onClose} footer={<Button onClick={onClose}>{t('common.close')}</Button>} destroyOnHidden>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('auth.username')}>{u?.username}</Descriptions.Item>
        <Descriptions.Item label={t('users.email')}>{u?.email || '—'}</Descriptions.Item>
        <Descriptions.Item label={t('users.realname')}>{u?.realname || '—'}</Descriptions.Item>
      </Descriptions>
      {secret !== undefined && (
        <div style={{ marginTop: 16 }}>
          <Typography.Text strong>{t('profile.cliSecret')}</Typography.Text>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {t('profile.cliSecretHelp')}
          </Typography.Paragraph>
          <Space.Compact style={{ width: '100%' }}>
            <Input.Password readOnly value={secret} aria-label={t('profile.cliSecret')} data-testid="cli-secret" />
            <Button icon={<CopyOutlined />} aria-label={t('common.copy')} onClick={() => void navigator.clipboard?.writeText(secret).then(() => notify.ok(t('common.copied')))} />
          </Space.Compact>
          <Button icon={<ReloadOutlined />} style={{ marginTop: 8 }} loading={busy} onClick={regenerate} data-testid="cli-secret-regenerate">
            {t('profile.regenerate')}
          </Button>
        </div>
      )}
    </Modal>
  );
}
