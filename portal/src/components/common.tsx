// Small shared pieces: plain-words API errors, notifications, server-side paginated tables, confirm-delete.
import { useState, type ReactNode } from 'react';
import { Alert, App, Button, Popconfirm, Typography } from 'antd';
import { CopyOutlined, DeleteOutlined } from '@ant-design/icons';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText, getPage, type CallOptions } from '../api/client.ts';
import { formatNumber } from '../format.ts';

export function ErrorAlert({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  return <Alert type="error" showIcon role="alert" title={t('common.error')} description={errorText(error)} style={{ marginBottom: 16 }} />;
}

export function useNotify() {
  const { message } = App.useApp();
  const { t } = useTranslation();
  return {
    ok: (text?: string) => void message.success(text ?? t('common.saved')),
    fail: (e: unknown) => void message.error(errorText(e)),
  };
}

export function PageTitle({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <div style={{ display: 'flex', alignItems: 'center', marginBottom: 16, gap: 12 }}>
      <Typography.Title level={3} style={{ margin: 0, flex: 1 }}>
        {children}
      </Typography.Title>
      {extra}
    </div>
  );
}

/** One server-side page of a Harbor list plus antd Table pagination wired to it. */
export function usePaged<T>(key: unknown[], path: string | null, query: CallOptions['query'] = {}, initialSize = 15) {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(initialSize);
  const q = useQuery({
    queryKey: [...key, path, query, page, pageSize],
    queryFn: () => getPage<T>(path!, { ...query, page, page_size: pageSize }),
    enabled: path !== null,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
  return {
    query: q,
    rows: q.data?.items ?? [],
    reset: () => setPage(1),
    pagination: {
      current: page,
      pageSize,
      total: q.data?.total ?? 0,
      showSizeChanger: true,
      pageSizeOptions: [15, 25, 50, 100],
      showTotal: (total: number) => t('common.total', { count: total, formatted: formatNumber(total) }),
      onChange: (p: number, s: number) => {
        setPage(s !== pageSize ? 1 : p);
        setPageSize(s);
      },
    },
  };
}

export function DeleteButton({ onConfirm, label, size = 'small' }: { onConfirm: () => Promise<unknown> | void; label?: string; size?: 'small' | 'middle' }) {
  const { t } = useTranslation();
  return (
    <Popconfirm title={t('common.confirmDelete')} okText={t('common.delete')} cancelText={t('common.cancel')} okButtonProps={{ danger: true }} onConfirm={onConfirm}>
      <Button danger size={size} icon={<DeleteOutlined />} data-testid="delete-button">
        {label ?? t('common.delete')}
      </Button>
    </Popconfirm>
  );
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  return (
    <Button
      size="small"
      icon={<CopyOutlined />}
      aria-label={label ?? t('common.copy')}
      onClick={() => {
        const done = () => void message.success(t('common.copied'));
        if (navigator.clipboard?.writeText) navigator.clipboard.writeText(text).then(done, () => void message.error(t('common.copyFailed')));
        else void message.error(t('common.copyFailed'));
      }}
    >
      {label ?? t('common.copy')}
    </Button>
  );
}

/** Shown where a backend feature is not on this server yet. */
export function NotAvailable({ what }: { what?: string }) {
  const { t } = useTranslation();
  return <Alert type="info" showIcon title={t('common.notAvailable')} description={what ?? t('common.notAvailableHint')} />;
}
