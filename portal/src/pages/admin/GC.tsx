// Garbage collection: run now (dry run, delete untagged, workers), schedule, history with status and logs.
import { useState } from 'react';
import { Button, Card, Checkbox, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlayCircleOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, get } from '../../api/client.ts';
import { ok, typed } from '../../api/typed.ts';
import type { ExecHistory, GCSchedule } from '../../api/types.ts';
import { ErrorAlert, PageTitle, useNotify, usePaged } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

const STATUS_COLOR: Record<string, string> = { Success: 'green', Error: 'red', Stopped: 'orange', Running: 'blue', Pending: 'default' };
const SCHEDULES = ['None', 'Hourly', 'Daily', 'Weekly', 'Custom'];

interface RunForm {
  delete_untagged: boolean;
  dry_run: boolean;
  workers: number;
}

export default function GC() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const [runForm] = Form.useForm<RunForm>();
  const [schedForm] = Form.useForm<{ type: string; cron?: string }>();
  const schedType = Form.useWatch('type', schedForm);
  const [log, setLog] = useState<{ id: number; text: string } | null>(null);
  const list = usePaged<ExecHistory>(['gc-history'], '/system/gc', { sort: '-creation_time' }, 10);
  const active = list.rows.some((r) => r.job_status === 'Pending' || r.job_status === 'Running');
  useQuery({ queryKey: ['gc-poll', active], queryFn: () => list.query.refetch().then(() => 1), enabled: active, refetchInterval: 1500 });
  const schedule = useQuery({ queryKey: ['gc-schedule'], queryFn: () => get<GCSchedule>('/system/gc/schedule') });

  const run = async () => {
    const v = runForm.getFieldsValue();
    try {
      await ok(typed.POST('/system/gc/schedule', { body: { schedule: { type: 'Manual' }, parameters: { delete_untagged: !!v.delete_untagged, dry_run: !!v.dry_run, workers: v.workers ?? 1 } } }));
      notify.ok(t('gc.started'));
      await qc.invalidateQueries({ queryKey: ['gc-history'] });
    } catch (e) {
      notify.fail(e);
    }
  };
  const saveSchedule = async () => {
    const v = schedForm.getFieldsValue();
    const p = runForm.getFieldsValue();
    try {
      await call(schedule.data?.schedule?.type ? 'PUT' : 'POST', '/system/gc/schedule', {
        body: { schedule: { type: v.type, cron: v.type === 'Custom' ? v.cron : undefined }, parameters: { delete_untagged: !!p.delete_untagged, dry_run: false, workers: p.workers ?? 1 } },
      });
      notify.ok();
      await qc.invalidateQueries({ queryKey: ['gc-schedule'] });
    } catch (e) {
      notify.fail(e);
    }
  };
  const showLog = async (id: number) => {
    try {
      const r = await call<string>('GET', `/system/gc/${id}/log`, { text: true });
      setLog({ id, text: r.data });
    } catch (e) {
      notify.fail(e);
    }
  };

  const current = schedule.data?.schedule;
  return (
    <>
      <PageTitle>{t('nav.gc')}</PageTitle>
      <Space align="start" wrap style={{ marginBottom: 16 }}>
        <Card title={t('gc.runNow')} style={{ width: 380 }}>
          <Form form={runForm} layout="vertical" initialValues={{ delete_untagged: false, dry_run: false, workers: 1 }}>
            <Form.Item name="delete_untagged" valuePropName="checked" noStyle>
              <Checkbox>{t('gc.deleteUntagged')}</Checkbox>
            </Form.Item>
            <br />
            <Form.Item name="dry_run" valuePropName="checked" noStyle>
              <Checkbox>{t('gc.dryRun')}</Checkbox>
            </Form.Item>
            <Form.Item name="workers" label={t('gc.workers')} style={{ marginTop: 12 }}>
              <InputNumber min={1} max={10} />
            </Form.Item>
            <Button type="primary" icon={<PlayCircleOutlined />} onClick={run} disabled={active} data-testid="gc-run">
              {t('gc.runNow')}
            </Button>
          </Form>
        </Card>
        <Card title={t('gc.schedule')} style={{ width: 380 }}>
          <Typography.Paragraph type="secondary">
            {current?.type ? t('gc.currentSchedule', { type: t(`gc.types.${current.type}`, { defaultValue: current.type }), cron: current.cron ?? '' }) : t('gc.noSchedule')}
            {current?.next_scheduled_time ? ` · ${t('gc.next')}: ${formatDate(current.next_scheduled_time)}` : ''}
          </Typography.Paragraph>
          <Form form={schedForm} layout="vertical" initialValues={{ type: 'None' }}>
            <Form.Item name="type" label={t('gc.scheduleType')}>
              <Select options={SCHEDULES.map((s) => ({ value: s, label: t(`gc.types.${s}`) }))} />
            </Form.Item>
            {schedType === 'Custom' && (
              <Form.Item name="cron" label={t('gc.cron')} extra={t('gc.cronHint')} rules={[{ required: true, message: t('validation.required') }]}>
                <Input placeholder="0 0 3 * * *" />
              </Form.Item>
            )}
            <Button onClick={saveSchedule}>{t('common.save')}</Button>
          </Form>
        </Card>
      </Space>
      <Typography.Title level={4}>{t('gc.history')}</Typography.Title>
      <ErrorAlert error={list.query.error} />
      <Table<ExecHistory>
        rowKey="id"
        data-testid="gc-history"
        loading={list.query.isFetching && !active}
        dataSource={list.rows}
        pagination={list.pagination}
        columns={[
          { title: t('gc.id'), dataIndex: 'id' },
          { title: t('gc.trigger'), dataIndex: 'job_kind', render: (k: string) => t(`gc.kinds.${k}`, { defaultValue: k }) },
          { title: t('gc.status'), dataIndex: 'job_status', render: (s: string) => <Tag color={STATUS_COLOR[s]}>{t(`gc.statuses.${s}`, { defaultValue: s })}</Tag> },
          {
            title: t('gc.parameters'),
            dataIndex: 'job_parameters',
            render: (p: string) => {
              try {
                const o = JSON.parse(p) as Record<string, unknown>;
                const kept = typeof o.untagged_kept_in_grace === 'number' && o.untagged_kept_in_grace > 0 ? t('gc.keptByGrace', { count: o.untagged_kept_in_grace, grace: o.gc_grace_seconds }) : null;
                return [o.dry_run ? t('gc.dryRun') : null, o.delete_untagged ? t('gc.deleteUntagged') : null, kept].filter(Boolean).join(', ') || '—';
              } catch {
                return '—';
              }
            },
          },
          { title: t('common.creationTime'), dataIndex: 'creation_time', render: formatDate },
          { title: t('common.updateTime'), dataIndex: 'update_time', render: formatDate },
          {
            title: t('gc.logs'),
            render: (_: unknown, r) => (
              <Button size="small" type="link" onClick={() => {
                if (r.id !== undefined) void showLog(r.id);
              }}>
                {t('gc.viewLog')}
              </Button>
            ),
          },
        ]}
      />
      <Modal open={log !== null} width={800} title={t('gc.logTitle', { id: log?.id })} footer={null} onCancel={() => setLog(null)}>
        <pre style={{ maxHeight: 480, overflow: 'auto', fontSize: 12 }} data-testid="gc-log">
          {log?.text}
        </pre>
      </Modal>
    </>
  );
}
