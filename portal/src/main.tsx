// Entry point: providers (react-query, antd theme + locale, i18n), the router and lazily loaded pages.
import { StrictMode, Suspense, lazy, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, Spin, theme as antTheme } from 'antd';
import type { Locale } from 'antd/es/locale';
import enUS from 'antd/es/locale/en_US';
import { useTranslation } from 'react-i18next';
import { initI18n } from './i18n.ts';
import { onUnauthorized } from './api/client.ts';
import { currentUserQuery, permissionsQuery } from './api/hooks.ts';
import { firstProjectsPage } from './pages/projects-query.ts';
import { ThemeContext, type ThemeMode } from './theme.ts';
import AppLayout from './components/AppLayout.tsx';

// Route chunks, loaded on demand; the chunk of the page being opened starts loading at once, in parallel
// with the current-user request, instead of after the layout has rendered.
const pages = {
  login: () => import('./pages/Login.tsx'),
  dashboard: () => import('./pages/Dashboard.tsx'),
  projects: () => import('./pages/Projects.tsx'),
  projectDetail: () => import('./pages/ProjectDetail.tsx'),
  repository: () => import('./pages/project/Repository.tsx'),
  artifact: () => import('./pages/project/Artifact.tsx'),
};
const Login = lazy(pages.login);
const Dashboard = lazy(pages.dashboard);
const Projects = lazy(pages.projects);
const ProjectDetail = lazy(pages.projectDetail);
const RepositoryPage = lazy(pages.repository);
const ArtifactPage = lazy(pages.artifact);
const Users = lazy(() => import('./pages/admin/Users.tsx'));
const Groups = lazy(() => import('./pages/admin/Groups.tsx'));
const AdminRobots = lazy(() => import('./pages/admin/Robots.tsx'));
const Registries = lazy(() => import('./pages/admin/Registries.tsx'));
const Replications = lazy(() => import('./pages/admin/Replications.tsx'));
const GC = lazy(() => import('./pages/admin/GC.tsx'));
const AuditLogs = lazy(() => import('./pages/admin/AuditLogs.tsx'));
const Configuration = lazy(() => import('./pages/admin/Configuration.tsx'));
const SystemInfoPage = lazy(() => import('./pages/admin/SystemInfo.tsx'));
const OidcOnboard = lazy(() => import('./pages/OidcOnboard.tsx'));

const path = window.location.pathname;
if (path === '/' || path === '/projects') void pages.projects();
else if (path === '/login') void pages.login();
else if (path === '/dashboard') void pages.dashboard();
else if (/^\/projects\/[^/]+\/repositories\/[^/]+\/artifacts\//.test(path)) void pages.artifact();
else if (/^\/projects\/[^/]+\/repositories\/[^/]+$/.test(path)) void pages.repository();
else if (path.startsWith('/projects/')) void pages.projectDetail();

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});
// The login and the OIDC onboarding pages are seen before there is a session.
if (path !== '/login' && path !== '/oidc-onboard') {
  void queryClient.prefetchQuery(currentUserQuery);
  void queryClient.prefetchQuery(permissionsQuery('/'));
  if (path === '/' || path === '/projects') void queryClient.prefetchQuery(firstProjectsPage());
}

function UnauthorizedRedirect() {
  const navigate = useNavigate();
  const location = useLocation();
  useEffect(
    () =>
      onUnauthorized(() => {
        queryClient.setQueryData(['current-user'], null);
        if (!location.pathname.startsWith('/login') && !location.pathname.startsWith('/oidc-onboard')) navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      }),
    [navigate, location],
  );
  return null;
}

const fallback = (
  <div style={{ padding: 48, textAlign: 'center' }}>
    <Spin />
  </div>
);

/** antd's own texts (pagination, empty tables, date pickers) in the current language; Chinese loads on demand. */
function useAntdLocale(lang: string): Locale {
  const [zh, setZh] = useState<Locale | null>(null);
  useEffect(() => {
    if (lang === 'zh-CN' && !zh) void import('antd/es/locale/zh_CN').then((m) => setZh(m.default));
  }, [lang, zh]);
  return lang === 'zh-CN' && zh ? zh : enUS;
}

function Root() {
  const { i18n } = useTranslation();
  const antdLocale = useAntdLocale(i18n.language);
  const [mode, setMode] = useState<ThemeMode>(() => (localStorage.getItem('berth.theme') === 'dark' ? 'dark' : 'light'));
  const themeCtx = useMemo(
    () => ({
      mode,
      toggle: () =>
        setMode((m) => {
          const next = m === 'dark' ? 'light' : 'dark';
          localStorage.setItem('berth.theme', next);
          return next;
        }),
    }),
    [mode],
  );
  useEffect(() => {
    document.documentElement.dataset.theme = mode;
    document.body.style.background = mode === 'dark' ? '#141414' : '#f5f5f5';
  }, [mode]);
  return (
    <ThemeContext.Provider value={themeCtx}>
      <ConfigProvider
        locale={antdLocale}
        theme={{ algorithm: mode === 'dark' ? antTheme.darkAlgorithm : antTheme.defaultAlgorithm, token: { borderRadius: 4 } }}
        componentSize="middle"
      >
        <AntApp>
          <BrowserRouter>
            <UnauthorizedRedirect />
            <Suspense fallback={fallback}>
              <Routes>
                <Route path="/login" element={<Login />} />
                <Route path="/oidc-onboard" element={<OidcOnboard />} />
                <Route element={<AppLayout />}>
                  <Route index element={<Navigate to="/projects" replace />} />
                  <Route path="dashboard" element={<Dashboard />} />
                  <Route path="projects" element={<Projects />} />
                  <Route path="projects/:projectId/repositories/:repo/artifacts/:reference" element={<ArtifactPage />} />
                  <Route path="projects/:projectId/repositories/:repo" element={<RepositoryPage />} />
                  <Route path="projects/:projectId/:tab?" element={<ProjectDetail />} />
                  <Route path="admin/users" element={<Users />} />
                  <Route path="admin/groups" element={<Groups />} />
                  <Route path="admin/robots" element={<AdminRobots />} />
                  <Route path="admin/registries" element={<Registries />} />
                  <Route path="admin/replications" element={<Replications />} />
                  <Route path="admin/gc" element={<GC />} />
                  <Route path="admin/audit-logs" element={<AuditLogs />} />
                  <Route path="admin/configuration" element={<Configuration />} />
                  <Route path="admin/system" element={<SystemInfoPage />} />
                  <Route path="*" element={<Navigate to="/projects" replace />} />
                </Route>
              </Routes>
            </Suspense>
          </BrowserRouter>
        </AntApp>
      </ConfigProvider>
    </ThemeContext.Provider>
  );
}

await initI18n();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Root />
    </QueryClientProvider>
  </StrictMode>,
);
