// The signed-in frame: navigation (administration only for system admins), language, theme and user menu.
import { Suspense, useEffect, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { Button, Dropdown, Layout, Menu, Select, Space, Spin, Tooltip, Typography } from 'antd';
import {
  IdcardOutlined,
  AppstoreOutlined,
  AuditOutlined,
  BulbOutlined,
  CloudServerOutlined,
  SyncOutlined,
  DashboardOutlined,
  DeleteOutlined,
  InfoCircleOutlined,
  LogoutOutlined,
  RobotOutlined,
  SettingOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { useCurrentUser } from '../api/hooks.ts';
import { logout } from '../api/client.ts';
import { UserProfile } from './UserProfile.tsx';
import { LANGUAGES, setLanguage, type Lang } from '../i18n.ts';
import { useThemeMode } from '../theme.ts';

export function LanguageSwitcher() {
  const { t, i18n } = useTranslation();
  return (
    <Select
      aria-label={t('common.language')}
      data-testid="language-switcher"
      size="small"
      value={i18n.language as Lang}
      onChange={(v) => void setLanguage(v)}
      options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
      style={{ width: 110 }}
    />
  );
}

export function ThemeToggle({ color }: { color?: string }) {
  const { t } = useTranslation();
  const { mode, toggle } = useThemeMode();
  return (
    <Tooltip title={mode === 'dark' ? t('common.lightTheme') : t('common.darkTheme')}>
      <Button
        size="small"
        type="text"
        icon={<BulbOutlined style={color ? { color } : undefined} />}
        onClick={toggle}
        aria-label={mode === 'dark' ? t('common.lightTheme') : t('common.darkTheme')}
        data-testid="theme-toggle"
      />
    </Tooltip>
  );
}

export default function AppLayout() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const { mode } = useThemeMode();
  const [profileOpen, setProfileOpen] = useState(false);

  useEffect(() => {
    if (me.isSuccess && me.data === null) navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }, [me.isSuccess, me.data, navigate, location]);

  // The page renders while the user loads (its requests run in parallel); a 401 anywhere goes to /login.
  if (me.isSuccess && me.data === null) return null;
  // Harbor's has_admin_role: the flag, or the admin group of LDAP/OIDC at the last login.
  const admin = !!me.data?.sysadmin_flag || !!me.data?.admin_role_in_auth;
  const items = [
    { key: '/projects', icon: <AppstoreOutlined />, label: <Link to="/projects">{t('nav.projects')}</Link> },
    { key: '/dashboard', icon: <DashboardOutlined />, label: <Link to="/dashboard">{t('nav.dashboard')}</Link> },
    ...(admin
      ? [
          {
            key: 'admin',
            type: 'group' as const,
            label: t('nav.administration'),
            children: [
              { key: '/admin/users', icon: <UserOutlined />, label: <Link to="/admin/users">{t('nav.users')}</Link> },
              { key: '/admin/groups', icon: <TeamOutlined />, label: <Link to="/admin/groups">{t('nav.groups')}</Link> },
              { key: '/admin/robots', icon: <RobotOutlined />, label: <Link to="/admin/robots">{t('nav.robots')}</Link> },
              { key: '/admin/registries', icon: <CloudServerOutlined />, label: <Link to="/admin/registries">{t('nav.registries')}</Link> },
              { key: '/admin/replications', icon: <SyncOutlined />, label: <Link to="/admin/replications">{t('nav.replications')}</Link> },
              { key: '/admin/gc', icon: <DeleteOutlined />, label: <Link to="/admin/gc">{t('nav.gc')}</Link> },
              { key: '/admin/audit-logs', icon: <AuditOutlined />, label: <Link to="/admin/audit-logs">{t('nav.auditLogs')}</Link> },
              { key: '/admin/configuration', icon: <SettingOutlined />, label: <Link to="/admin/configuration">{t('nav.configuration')}</Link> },
              { key: '/admin/system', icon: <InfoCircleOutlined />, label: <Link to="/admin/system">{t('nav.systemInfo')}</Link> },
            ],
          },
        ]
      : []),
  ];
  const selected = items
    .flatMap((i) => ('children' in i && i.children ? i.children : [i]))
    .map((i) => i.key)
    .filter((k) => location.pathname.startsWith(k));

  const doLogout = async () => {
    await logout();
    qc.clear();
    navigate('/login');
  };

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header
        style={{ display: 'flex', alignItems: 'center', gap: 16, paddingInline: 20, background: mode === 'dark' ? '#1f1f1f' : '#001529' }}
      >
        <Link to="/projects" style={{ color: '#fff', fontWeight: 600, fontSize: 18 }} aria-label={t('app.home')}>
          ⚓ {t('app.name')}
        </Link>
        <div style={{ flex: 1 }} />
        <Space size="middle">
          <LanguageSwitcher />
          <ThemeToggle color="#fff" />
          <Dropdown
            menu={{
              items: [
                { key: 'profile', icon: <IdcardOutlined />, label: <span data-testid="profile-open">{t('profile.title')}</span>, onClick: () => setProfileOpen(true) },
                { key: 'logout', icon: <LogoutOutlined />, label: t('auth.logout'), onClick: () => void doLogout() },
              ],
            }}
          >
            <Button type="text" style={{ color: '#fff' }} icon={<UserOutlined />} data-testid="user-menu">
              {me.data?.username ?? ''}
            </Button>
          </Dropdown>
        </Space>
      </Layout.Header>
      <UserProfile open={profileOpen} onClose={() => setProfileOpen(false)} />
      <Layout>
        <Layout.Sider width={220} theme={mode === 'dark' ? 'dark' : 'light'} breakpoint="lg" collapsedWidth={0}>
          <nav aria-label={t('nav.main')}>
            <Menu mode="inline" selectedKeys={selected} items={items} style={{ borderInlineEnd: 0 }} />
          </nav>
        </Layout.Sider>
        <Layout.Content style={{ padding: 24 }}>
          <main>
            <Suspense fallback={<Spin />}>
              <Outlet />
            </Suspense>
          </main>
          <Typography.Paragraph type="secondary" style={{ marginTop: 24, fontSize: 12 }}>
            {t('app.footer')}
          </Typography.Paragraph>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
