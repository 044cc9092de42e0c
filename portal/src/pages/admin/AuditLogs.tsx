// System audit log with filters (GET /audit-logs).
import { useTranslation } from 'react-i18next';
import { useEndpoint } from '../../api/hooks.ts';
import AuditTable from '../../components/AuditTable.tsx';
import { NotAvailable, PageTitle } from '../../components/common.tsx';

export default function AuditLogs() {
  const { t } = useTranslation();
  const exists = useEndpoint('/audit-logs');
  return (
    <>
      <PageTitle>{t('nav.auditLogs')}</PageTitle>
      {exists.data === false ? <NotAvailable what={t('audit.notAvailable')} /> : exists.data ? <AuditTable path="/audit-logs" queryKey={['audit-logs']} /> : null}
    </>
  );
}
