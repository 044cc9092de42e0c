// Sign in (POST /c/login) and, when the system allows it, self-registration (POST /users).
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { Button, Card, Divider, Form, Input, Modal, Space, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { call, login } from '../api/client.ts';
import { useSystemInfo } from '../api/hooks.ts';
import { ErrorAlert, useNotify } from '../components/common.tsx';
import { LanguageSwitcher, ThemeToggle } from '../components/AppLayout.tsx';

interface RegisterForm {
  username: string;
  email: string;
  realname: string;
  password: string;
  confirm: string;
  comment?: string;
}

export default function Login() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const qc = useQueryClient();
  const info = useSystemInfo();
  const notify = useNotify();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [registering, setRegistering] = useState(false);
  const [regForm] = Form.useForm<RegisterForm>();

  const oidc = info.data?.auth_mode === 'oidc_auth';
  const nextPath = () => {
    const next = params.get('next');
    return next && next.startsWith('/') && !next.startsWith('//') ? next : '/projects';
  };

  const onFinish = async (v: { principal: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await login(v.principal, v.password);
      await qc.invalidateQueries();
      navigate(nextPath(), { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const register = async () => {
    const v = await regForm.validateFields();
    try {
      await call('POST', '/users', { body: { username: v.username, email: v.email, realname: v.realname, password: v.password, comment: v.comment ?? '' } });
      notify.ok(t('auth.registered'));
      setRegistering(false);
      regForm.resetFields();
    } catch (e) {
      notify.fail(e);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', padding: 16 }}>
      <main style={{ width: 380 }}>
        <Card>
          <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
            <Typography.Title level={2} style={{ margin: 0 }}>
              ⚓ {t('app.name')}
            </Typography.Title>
            <Space>
              <LanguageSwitcher />
              <ThemeToggle />
            </Space>
          </Space>
          <Typography.Paragraph type="secondary">{t('auth.subtitle')}</Typography.Paragraph>
          <ErrorAlert error={error} />
          {oidc && (
            <>
              {/* A full-page navigation: the server redirects to the provider (Harbor's /c/oidc/login). */}
              <Button type="primary" block size="large" href={`/c/oidc/login?redirect_url=${encodeURIComponent(nextPath())}`} data-testid="oidc-login">
                {t('auth.loginWith', { name: info.data?.oidc_provider_name || 'OIDC' })}
              </Button>
              <Divider plain>{t('auth.localAdmin')}</Divider>
            </>
          )}
          <Form layout="vertical" onFinish={onFinish} requiredMark={false}>
            <Form.Item name="principal" label={t('auth.username')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input prefix={<UserOutlined />} autoComplete="username" autoFocus id="login-username" />
            </Form.Item>
            <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" id="login-password" />
            </Form.Item>
            <Button type={oidc ? 'default' : 'primary'} htmlType="submit" block loading={busy} data-testid="login-submit">
              {t('auth.login')}
            </Button>
          </Form>
          {info.data?.self_registration && (
            <Button type="link" block style={{ marginTop: 8 }} onClick={() => setRegistering(true)} data-testid="register-open">
              {t('auth.signUp')}
            </Button>
          )}
        </Card>
      </main>
      <Modal open={registering} title={t('auth.signUp')} okText={t('auth.signUp')} cancelText={t('common.cancel')} onOk={register} onCancel={() => setRegistering(false)} destroyOnHidden>
        <Form form={regForm} layout="vertical">
          <Form.Item name="username" label={t('auth.username')} rules={[{ required: true, message: t('validation.required') }, { max: 255 }]}>
            <Input autoComplete="username" />
          </Form.Item>
          <Form.Item name="email" label={t('users.email')} rules={[{ required: true, type: 'email', message: t('validation.email') }]}>
            <Input autoComplete="email" />
          </Form.Item>
          <Form.Item name="realname" label={t('users.realname')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input autoComplete="name" />
          </Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, min: 8, message: t('validation.password') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            name="confirm"
            label={t('auth.confirmPassword')}
            dependencies={['password']}
            rules={[
              { required: true, message: t('validation.required') },
              ({ getFieldValue }) => ({
                validator: (_r, value) => (value === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error(t('validation.mismatch')))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="comment" label={t('users.comment')}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
