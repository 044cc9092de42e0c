// A project's audit log (GET /projects/{name}/logs).
import { useTranslation } from 'react-i18next';
import { useEndpoint } from '../../api/hooks.ts';
import AuditTable from '../../components/AuditTable.tsx';
import { NotAvailable } from '../../components/common.tsx';
import type { ProjectTabProps } from './tab-props.ts';

export default function Logs({ project }: ProjectTabProps) {
  const { t } = useTranslation();
  const path = `/projects/${encodeURIComponent(project.name ?? '')}/logs`;
  const exists = useEndpoint(path);
  if (exists.data === false) return <NotAvailable what={t('audit.notAvailable')} />;
  if (!exists.data) return null;
  return <AuditTable path={path} queryKey={['project-logs', project.project_id]} />;
}
