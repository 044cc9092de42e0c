// Harbor's OIDC onboarding page (/oidc-onboard?username=&redirect_url=): a first OIDC login without
// oidc_auto_onboard picks the local username here; POST /c/oidc/onboard creates the user and the session.
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { Button, Card, Form, Input, Typography } from 'antd';
import { UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { call } from '../api/client.ts';
import { ErrorAlert } from '../components/common.tsx';

export default function OidcOnboard() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const onFinish = async (v: { username: string }) => {
    setBusy(true);
    setError(null);
    try {
      await call('POST', '/c/oidc/onboard', { body: { username: v.username } });
      await qc.invalidateQueries();
      const next = params.get('redirect_url') ?? '';
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/projects', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', padding: 16 }}>
      <main style={{ width: 420 }}>
        <Card title={t('auth.onboardTitle')}>
          <Typography.Paragraph type="secondary">{t('auth.onboardHelp')}</Typography.Paragraph>
          <ErrorAlert error={error} />
          <Form layout="vertical" onFinish={onFinish} requiredMark={false} initialValues={{ username: params.get('username') ?? '' }}>
            <Form.Item name="username" label={t('auth.username')} rules={[{ required: true, message: t('validation.required') }, { max: 255 }]}>
              <Input prefix={<UserOutlined />} autoFocus id="onboard-username" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy} data-testid="onboard-submit">
              {t('common.save')}
            </Button>
          </Form>
        </Card>
      </main>
    </div>
  );
}
