// System configuration (GET/PUT /configurations): authentication (mode, self-registration, LDAP with a
// "test connection" calling POST /ldap/ping, OIDC with POST /system/oidc/ping) and system settings. Only keys the server reports are shown;
// keys it marks not editable are disabled; only changed values are sent.
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Form, Input, InputNumber, Select, Space, Spin, Switch, Tabs } from 'antd';
import { ApiOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, get } from '../../api/client.ts';
import { useEndpoint } from '../../api/hooks.ts';
import type { ConfigurationsResponse } from '../../api/types.ts';
import { ErrorAlert, NotAvailable, PageTitle, useNotify } from '../../components/common.tsx';

type Kind = 'bool' | 'int' | 'string' | 'password' | { options: string[] };
const AUTH_FIELDS: [string, Kind][] = [
  // Harbor also has uaa_auth and http_auth; Berth offers these three.
  ['auth_mode', { options: ['db_auth', 'ldap_auth', 'oidc_auth'] }],
  ['primary_auth_mode', 'bool'],
  ['self_registration', 'bool'],
];
const LDAP_FIELDS: [string, Kind][] = [
  ['ldap_url', 'string'],
  ['ldap_search_dn', 'string'],
  ['ldap_search_password', 'password'],
  ['ldap_base_dn', 'string'],
  ['ldap_filter', 'string'],
  ['ldap_uid', 'string'],
  ['ldap_scope', { options: ['0', '1', '2'] }],
  ['ldap_timeout', 'int'],
  ['ldap_verify_cert', 'bool'],
  ['ldap_group_base_dn', 'string'],
  ['ldap_group_search_filter', 'string'],
  ['ldap_group_attribute_name', 'string'],
  ['ldap_group_admin_dn', 'string'],
  ['ldap_group_membership_attribute', 'string'],
  ['ldap_group_search_scope', { options: ['0', '1', '2'] }],
  ['ldap_group_attach_parallel', 'bool'],
];
const OIDC_FIELDS: [string, Kind][] = [
  ['oidc_name', 'string'],
  ['oidc_endpoint', 'string'],
  ['oidc_client_id', 'string'],
  ['oidc_client_secret', 'password'],
  ['oidc_groups_claim', 'string'],
  ['oidc_admin_group', 'string'],
  ['oidc_group_filter', 'string'],
  ['oidc_scope', 'string'],
  ['oidc_user_claim', 'string'],
  ['oidc_verify_cert', 'bool'],
  ['oidc_auto_onboard', 'bool'],
  ['oidc_extra_redirect_parms', 'string'],
  ['oidc_logout', 'bool'],
];
/** Write-only keys: sent only when typed in (the server never returns them). */
const SECRET_KEYS = new Set(['ldap_search_password', 'oidc_client_secret']);
const SYSTEM_FIELDS: [string, Kind][] = [
  ['project_creation_restriction', { options: ['everyone', 'adminonly'] }],
  ['read_only', 'bool'],
  ['token_expiration', 'int'],
  ['robot_token_duration', 'int'],
  ['robot_name_prefix', 'string'],
  ['session_timeout', 'int'],
  ['audit_log_forward_endpoint', 'string'],
  ['skip_audit_log_database', 'bool'],
  ['banner_message', 'string'],
];
const SCOPE_KEYS = new Set(['ldap_scope', 'ldap_group_search_scope']);

/** A configuration item ({value, editable}). The document types each key's value; this page handles keys generically. */
type ConfigItem = { value?: unknown; editable?: boolean };
const isItem = (v: unknown): v is ConfigItem => typeof v === 'object' && v !== null && !Array.isArray(v);
const itemsOf = (c: ConfigurationsResponse): Map<string, ConfigItem> =>
  new Map(Object.entries(c).flatMap(([k, v]): [string, ConfigItem][] => (isItem(v) ? [[k, v]] : [])));

export default function Configuration() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const notify = useNotify();
  const exists = useEndpoint('/configurations');
  const cfg = useQuery({ queryKey: ['configurations'], queryFn: () => get<ConfigurationsResponse>('/configurations'), enabled: exists.data === true });
  const [form] = Form.useForm<Record<string, unknown>>();
  const [ping, setPing] = useState<{ kind: 'ldap' | 'oidc'; ok: boolean; text: string } | null>(null);
  const [pinging, setPinging] = useState(false);
  const authMode = Form.useWatch('auth_mode', form);

  const initial = (c: ConfigurationsResponse) =>
    Object.fromEntries([...itemsOf(c)].map(([k, v]) => [k, SCOPE_KEYS.has(k) ? String(v.value) : v.value]));
  useEffect(() => {
    if (cfg.data) form.setFieldsValue(initial(cfg.data));
  }, [cfg.data, form]);

  if (exists.data === false) return <><PageTitle>{t('nav.configuration')}</PageTitle><NotAvailable /></>;
  if (!cfg.data) return cfg.error ? <ErrorAlert error={cfg.error} /> : <Spin />;
  const c = cfg.data;
  const items = itemsOf(c);

  const field = ([key, kind]: [string, Kind]) => {
    const has = items.has(key) || kind === 'password';
    if (!has) return null;
    const it = items.get(key);
    const disabled = it ? !it.editable : false;
    const label = t(`config.keys.${key}`);
    let input;
    if (kind === 'bool') input = <Switch disabled={disabled} aria-label={label} />;
    else if (kind === 'int') input = <InputNumber disabled={disabled} aria-label={label} />;
    else if (kind === 'password') input = <Input.Password disabled={disabled} autoComplete="new-password" placeholder={t('config.passwordUnchanged')} aria-label={label} />;
    else if (typeof kind === 'object')
      input = (
        <Select disabled={disabled} aria-label={label} style={{ maxWidth: 320 }} options={kind.options.map((o) => ({ value: o, label: t(`config.values.${o}`, { defaultValue: o }) }))} />
      );
    else input = <Input disabled={disabled} aria-label={label} />;
    return (
      <Form.Item key={key} name={key} label={label} valuePropName={kind === 'bool' ? 'checked' : 'value'} extra={disabled ? t('config.notEditable') : undefined}>
        {input}
      </Form.Item>
    );
  };

  const values = () => {
    const v = form.getFieldsValue(true);
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (SECRET_KEYS.has(k)) {
        if (typeof val === 'string' && val !== '') out[k] = val;
        continue;
      }
      const it = items.get(k);
      if (!it?.editable) continue;
      const typed = SCOPE_KEYS.has(k) ? Number(val) : val;
      if (JSON.stringify(typed) !== JSON.stringify(it.value)) out[k] = typed;
    }
    return out;
  };

  const save = async () => {
    const body = values();
    if (Object.keys(body).length === 0) return notify.ok(t('config.nothingChanged'));
    try {
      await call('PUT', '/configurations', { body });
      notify.ok();
      for (const k of SECRET_KEYS) form.setFieldValue(k, '');
      await qc.invalidateQueries({ queryKey: ['configurations'] });
      await qc.invalidateQueries({ queryKey: ['systeminfo'] });
    } catch (e) {
      notify.fail(e);
    }
  };

  const testOidc = async () => {
    const v = form.getFieldsValue(true);
    setPinging(true);
    setPing(null);
    try {
      await call('POST', '/system/oidc/ping', { body: { url: v.oidc_endpoint ?? '', verify_cert: v.oidc_verify_cert !== false } });
      setPing({ kind: 'oidc', ok: true, text: t('config.oidcOk') });
    } catch (e) {
      setPing({ kind: 'oidc', ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setPinging(false);
    }
  };

  const testLdap = async () => {
    const v = form.getFieldsValue(true);
    const body: Record<string, unknown> = {};
    for (const [k] of LDAP_FIELDS) {
      if (k.startsWith('ldap_group')) continue;
      const val = v[k];
      if (val === undefined || (k === 'ldap_search_password' && !val)) continue;
      body[k === 'ldap_timeout' ? 'ldap_connection_timeout' : k] = SCOPE_KEYS.has(k) ? Number(val) : val;
    }
    setPinging(true);
    setPing(null);
    try {
      const r = await call<{ success?: boolean; message?: string }>('POST', '/ldap/ping', { body });
      setPing({ kind: 'ldap', ok: r.data?.success !== false, text: r.data?.message || t('config.ldapOk') });
    } catch (e) {
      setPing({ kind: 'ldap', ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setPinging(false);
    }
  };

  return (
    <>
      <PageTitle
        extra={
          <Button type="primary" onClick={save} data-testid="config-save">
            {t('common.save')}
          </Button>
        }
      >
        {t('nav.configuration')}
      </PageTitle>
      <Form form={form} layout="vertical" style={{ maxWidth: 720 }}>
        <Tabs
          items={[
            {
              key: 'auth',
              label: t('config.authentication'),
              children: (
                <>
                  <Card size="small" style={{ marginBottom: 16 }}>
                    {AUTH_FIELDS.map(field)}
                  </Card>
                  {authMode === 'oidc_auth' && (
                    <Card size="small" title={t('config.oidc')} style={{ marginBottom: 16 }} data-testid="oidc-settings">
                      {OIDC_FIELDS.map(field)}
                      <Space direction="vertical" style={{ width: '100%' }}>
                        <Button icon={<ApiOutlined />} loading={pinging} onClick={testOidc} data-testid="oidc-ping">
                          {t('config.testOidc')}
                        </Button>
                        {ping?.kind === 'oidc' && <Alert type={ping.ok ? 'success' : 'error'} showIcon title={ping.text} role="status" />}
                      </Space>
                    </Card>
                  )}
                  {(authMode === 'ldap_auth' || Object.hasOwn(c, 'ldap_url')) && (
                    <Card size="small" title={t('config.ldap')}>
                      {LDAP_FIELDS.map(field)}
                      <Space direction="vertical" style={{ width: '100%' }}>
                        <Button icon={<ApiOutlined />} loading={pinging} onClick={testLdap} data-testid="ldap-ping">
                          {t('config.testConnection')}
                        </Button>
                        {ping?.kind === 'ldap' && <Alert type={ping.ok ? 'success' : 'error'} showIcon title={ping.text} role="status" />}
                      </Space>
                    </Card>
                  )}
                </>
              ),
            },
            { key: 'system', label: t('config.system'), children: <Card size="small">{SYSTEM_FIELDS.map(field)}</Card> },
          ]}
        />
      </Form>
    </>
  );
}
