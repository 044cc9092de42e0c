// Registries and replication: not built yet on this server; a placeholder that says so.
import { Alert, Empty } from 'antd';
import { useTranslation } from 'react-i18next';
import { PageTitle } from '../../components/common.tsx';

export default function Registries() {
  const { t } = useTranslation();
  return (
    <>
      <PageTitle>{t('nav.registries')}</PageTitle>
      <Alert type="info" showIcon title={t('registries.placeholderTitle')} description={t('registries.placeholder')} style={{ marginBottom: 16 }} />
      <Empty description={t('registries.empty')} />
    </>
  );
}
