// Runtime configuration (Harbor's GET/PUT /api/v2.0/configurations): an allow-listed, typed key table. The
// config file / BERTH_* environment give the defaults; values stored in the database override them, so every
// process sees an update (each process caches the merged values for CACHE_TTL_MS; a write drops the cache in every
// process through the cache invalidation bus). Secrets (ldap_search_password) are never returned and never written to the audit log.
import type { CacheBus } from '../../drivers/cache-bus/cache-bus.ts';
import { ApiErrors } from '../../errors.ts';
import { ConfigError, type Config } from '../../config/config.ts';
import type { Db } from '../../db/db.ts';
import type { ConfigurationRepository } from '../../repositories/configuration-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { SecretBox } from '../security/secret-box.ts';

export type AuthMode = 'db_auth' | 'ldap_auth' | 'oidc_auth';

/** Every runtime key with its type. */
export interface ConfigValues {
  auth_mode: AuthMode;
  primary_auth_mode: boolean;
  self_registration: boolean;
  project_creation_restriction: 'everyone' | 'adminonly';
  read_only: boolean;
  token_expiration: number;
  robot_token_duration: number;
  robot_name_prefix: string;
  audit_log_forward_endpoint: string;
  skip_audit_log_database: boolean;
  ldap_url: string;
  ldap_search_dn: string;
  ldap_search_password: string;
  ldap_base_dn: string;
  ldap_filter: string;
  ldap_uid: string;
  ldap_scope: number;
  ldap_timeout: number;
  ldap_verify_cert: boolean;
  ldap_group_base_dn: string;
  ldap_group_search_filter: string;
  ldap_group_attribute_name: string;
  ldap_group_admin_dn: string;
  ldap_group_membership_attribute: string;
  ldap_group_search_scope: number;
  ldap_group_attach_parallel: boolean;
  // Harbor 2.15 keys Berth stores and returns but does not act on (yet): UAA, HTTP auth proxy, quota
  // defaults, notification, session, banner and audit-event filters (docs/operator-guide.md lists them).
  uaa_client_id: string;
  uaa_client_secret: string;
  uaa_endpoint: string;
  uaa_verify_cert: boolean;
  http_authproxy_endpoint: string;
  http_authproxy_tokenreview_endpoint: string;
  http_authproxy_admin_groups: string;
  http_authproxy_admin_usernames: string;
  http_authproxy_verify_cert: boolean;
  http_authproxy_skip_search: boolean;
  http_authproxy_server_certificate: string;
  // OIDC single sign-on (auth_mode oidc_auth; src/services/oidc/oidc-service.ts).
  oidc_name: string;
  oidc_endpoint: string;
  oidc_client_id: string;
  oidc_client_secret: string;
  oidc_groups_claim: string;
  oidc_admin_group: string;
  oidc_group_filter: string;
  oidc_scope: string;
  oidc_user_claim: string;
  oidc_verify_cert: boolean;
  oidc_auto_onboard: boolean;
  oidc_extra_redirect_parms: string;
  oidc_logout: boolean;
  notification_enable: boolean;
  quota_per_project_enable: boolean;
  storage_per_project: number;
  session_timeout: number;
  scanner_skip_update_pulltime: boolean;
  banner_message: string;
  disabled_audit_log_event_types: string;
}
export type ConfigKey = keyof ConfigValues;

/** What the rest of the code depends on: typed reads of the effective (default + stored) values. */
export interface Configurations {
  get<K extends ConfigKey>(key: K): Promise<ConfigValues[K]>;
  all(): Promise<Readonly<ConfigValues>>;
}

type Spec<T> = {
  type: T extends boolean ? 'bool' : T extends number ? 'int' : 'string';
  default: (c: Config) => T;
  /** Allowed values (strings). */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Longest string accepted. */
  maxLength?: number;
  /** Extra check of a string; returns an error message or null. */
  check?: (v: string) => string | null;
  /** Never returned by GET, never logged. */
  secret?: boolean;
  /** A secret that GET still lists, with '' as its value (Harbor's response model has the key). */
  listedEmpty?: boolean;
  /** Line breaks allowed (a PEM certificate). */
  multiline?: boolean;
};

const ATTRIBUTE = (v: string) => (/^[A-Za-z][A-Za-z0-9-]{0,127}$|^[0-9]+(\.[0-9]+)+$/.test(v) ? null : 'must be an LDAP attribute name');
// Harbor accepts a filter without its outer parentheses and wraps it when searching (ldap-service normalizeFilter).
const OPTIONAL_FILTER = (v: string) => (/[\0]/.test(v) ? 'must be an LDAP filter' : null);
const LDAP_URL = (v: string) => {
  if (v === '') return null;
  try {
    const u = new URL(/^[a-z]+:\/\//i.test(v) ? v : `ldap://${v}`);
    return u.protocol === 'ldap:' || u.protocol === 'ldaps:' ? null : 'must be an ldap:// or ldaps:// URL';
  } catch {
    return 'must be an ldap:// or ldaps:// URL';
  }
};
const HOST_PORT = (v: string) => (v === '' || /^[A-Za-z0-9.\-\[\]:]{1,253}:[0-9]{1,5}$/.test(v) ? null : 'must be empty or host:port');
const NAME_PREFIX = (v: string) => (/^[\x21-\x7e]{1,32}$/.test(v) && !/[\/:@\\]/.test(v) ? null : 'must be 1 to 32 printable characters without / : @ \\');

const HTTP_URL = (v: string) => {
  if (v === '') return null;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http:// or https:// URL';
  } catch {
    return 'must be an http:// or https:// URL';
  }
};
// Harbor keeps oidc_extra_redirect_parms as a JSON object of strings, sent as a string.
const STRING_MAP = (v: string) => {
  if (v === '') return null;
  try {
    const o: unknown = JSON.parse(v);
    if (o && typeof o === 'object' && !Array.isArray(o) && Object.values(o).every((x) => typeof x === 'string')) return null;
  } catch {
    // falls through
  }
  return 'must be a JSON object of strings';
};
const REGEXP = (v: string) => {
  try {
    new RegExp(v);
    return null;
  } catch {
    return 'must be a regular expression';
  }
};
const str = (dflt = '', extra: Partial<Spec<string>> = {}): Spec<string> => ({ type: 'string', default: () => dflt, maxLength: 1024, ...extra });
const bool = (dflt: (c: Config) => boolean): Spec<boolean> => ({ type: 'bool', default: dflt });
const int = (min: number, max: number, dflt: (c: Config) => number): Spec<number> => ({ type: 'int', min, max, default: dflt });

/** The allow-list. A key that is not here is refused by PUT and never read from the database. */
export const CONFIG_KEYS: { readonly [K in ConfigKey]: Spec<ConfigValues[K]> } = {
  auth_mode: { type: 'string', values: ['db_auth', 'ldap_auth', 'oidc_auth'], default: () => 'db_auth' } as Spec<AuthMode>,
  primary_auth_mode: bool(() => false),
  self_registration: bool((c) => c.auth.selfRegistration),
  project_creation_restriction: { type: 'string', values: ['everyone', 'adminonly'], default: (c) => c.project.creationRestriction } as Spec<'everyone' | 'adminonly'>,
  read_only: bool(() => false),
  token_expiration: int(1, 1440, (c) => c.auth.tokenExpiration),
  robot_token_duration: int(1, 36500, () => 30),
  robot_name_prefix: str('robot$', { check: NAME_PREFIX }),
  audit_log_forward_endpoint: str('', { check: HOST_PORT }),
  skip_audit_log_database: bool(() => false),
  ldap_url: str('', { check: LDAP_URL }),
  ldap_search_dn: str(),
  ldap_search_password: str('', { secret: true }),
  ldap_base_dn: str(),
  ldap_filter: str('', { check: OPTIONAL_FILTER }),
  ldap_uid: str('cn', { check: ATTRIBUTE }),
  ldap_scope: int(0, 2, () => 2),
  ldap_timeout: int(1, 300, () => 5),
  ldap_verify_cert: bool(() => true),
  ldap_group_base_dn: str(),
  ldap_group_search_filter: str('', { check: OPTIONAL_FILTER }),
  ldap_group_attribute_name: str('cn', { check: ATTRIBUTE }),
  ldap_group_admin_dn: str(),
  ldap_group_membership_attribute: str('memberof', { check: ATTRIBUTE }),
  ldap_group_search_scope: int(0, 2, () => 2),
  ldap_group_attach_parallel: bool(() => false),
  uaa_client_id: str(),
  // Harbor returns uaa_client_secret in GET (its swagger lists it); Berth lists the key with an empty value.
  uaa_client_secret: str('', { secret: true, listedEmpty: true }),
  uaa_endpoint: str('', { check: HTTP_URL }),
  uaa_verify_cert: bool(() => false),
  http_authproxy_endpoint: str('', { check: HTTP_URL }),
  http_authproxy_tokenreview_endpoint: str('', { check: HTTP_URL }),
  http_authproxy_admin_groups: str(),
  http_authproxy_admin_usernames: str(),
  http_authproxy_verify_cert: bool(() => true),
  http_authproxy_skip_search: bool(() => false),
  http_authproxy_server_certificate: str('', { maxLength: 65536, multiline: true }),
  oidc_name: str(),
  oidc_endpoint: str('', { check: HTTP_URL }),
  oidc_client_id: str(),
  oidc_client_secret: str('', { secret: true }),
  oidc_groups_claim: str(),
  oidc_admin_group: str(),
  oidc_group_filter: str('', { check: REGEXP }),
  // Comma-separated as in Harbor; empty means openid,offline_access (the refresh token keeps CLI logins alive).
  oidc_scope: str(),
  oidc_user_claim: str(),
  oidc_verify_cert: bool(() => true),
  oidc_auto_onboard: bool(() => false),
  oidc_extra_redirect_parms: str('{}', { check: STRING_MAP }),
  oidc_logout: bool(() => false),
  notification_enable: bool(() => true),
  quota_per_project_enable: bool(() => true),
  // -1 is unlimited (Harbor's QuotaType)
  storage_per_project: int(-1, Number.MAX_SAFE_INTEGER, () => -1),
  session_timeout: int(1, 525600, () => 60),
  scanner_skip_update_pulltime: bool(() => false),
  // The portal's banner, a JSON document ({message, type, closable, fromDate, toDate}) Harbor stores verbatim.
  banner_message: str('', { maxLength: 4096 }),
  disabled_audit_log_event_types: str(),
};

export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];
export const SECRET_CONFIG_KEYS: readonly ConfigKey[] = CONFIG_KEY_NAMES.filter((k) => CONFIG_KEYS[k].secret);

const isKey = (k: string): k is ConfigKey => Object.hasOwn(CONFIG_KEYS, k);

/** Checks one value against its spec; returns it, or throws 400. */
function checkValue(key: ConfigKey, v: unknown): ConfigValues[ConfigKey] {
  const s = CONFIG_KEYS[key] as unknown as Omit<Spec<string>, 'type'> & { type: 'bool' | 'int' | 'string' };
  if (s.type === 'bool') {
    if (typeof v !== 'boolean') throw ApiErrors.badRequest(`${key} must be a boolean`);
    return v;
  }
  if (s.type === 'int') {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min! || v > s.max!) throw ApiErrors.badRequest(`${key} must be an integer between ${s.min} and ${s.max}`);
    return v;
  }
  if (typeof v !== 'string') throw ApiErrors.badRequest(`${key} must be a string`);
  if (v.length > (s.maxLength ?? 1024) || (s.multiline ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/ : /[\x00-\x1f\x7f]/).test(v)) throw ApiErrors.badRequest(`${key} is too long or holds control characters`);
  if (s.values && !s.values.includes(v)) throw ApiErrors.badRequest(`${key} must be one of ${s.values.join(', ')}`);
  const problem = s.check?.(v);
  if (problem) throw ApiErrors.badRequest(`${key} ${problem}`);
  return v;
}

const CACHE_TTL_MS = 2000;

export class ConfigurationService implements Configurations {
  private readonly db: Db;
  private readonly repo: ConfigurationRepository;
  private readonly config: Config;
  private readonly audit: AuditSink;
  /** Whether local users other than `admin` exist (auth_mode may change only while there are none). */
  private readonly hasNonAdminUsers: () => Promise<boolean>;
  private cache: { until: number; values: Promise<Readonly<ConfigValues>> } | null = null;
  private latest: Readonly<ConfigValues> | null = null;
  private readonly listeners: ((changed: readonly ConfigKey[]) => void)[] = [];
  /** Values pinned by `configurations.overwrite_json`: they win over stored ones and the API cannot change them. */
  private readonly pinned: ReadonlyMap<ConfigKey, unknown>;
  /** Seals secret keys at rest (a value stored before sealing existed is read as it is). */
  private readonly box: SecretBox | null;

  private readonly bus: CacheBus | null;

  constructor(deps: { db: Db; repo: ConfigurationRepository; config: Config; audit: AuditSink; hasNonAdminUsers: () => Promise<boolean>; box?: SecretBox; bus?: CacheBus }) {
    this.box = deps.box ?? null;
    this.db = deps.db;
    this.repo = deps.repo;
    this.config = deps.config;
    this.audit = deps.audit;
    this.hasNonAdminUsers = deps.hasNonAdminUsers;
    this.pinned = ConfigurationService.parsePinned(deps.config.configurations.overwriteJson);
    this.bus = deps.bus ?? null;
    // A change made by any process: drop the merged values (re-read at once, so peek() is current within a
    // round trip) and tell the listeners (login caches, OIDC discovery). null (a missed-messages flush): all keys.
    this.bus?.subscribe('config', (key) => {
      this.cache = null;
      this.all().catch(() => {});
      const changed = key === null ? CONFIG_KEY_NAMES : (key.split(',').filter((k) => isKey(k)) as ConfigKey[]);
      if (changed.length) for (const l of this.listeners) l(changed);
    });
  }

  /** Checks `configurations.overwrite_json` at start: every key known, every value of its type (ConfigError otherwise). */
  private static parsePinned(json: string): Map<ConfigKey, unknown> {
    const out = new Map<ConfigKey, unknown>();
    if (!json) return out;
    let obj: unknown;
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new ConfigError([`configurations.overwrite_json: not valid JSON (${(e as Error).message})`]);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(['configurations.overwrite_json: must be a JSON object']);
    const problems: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      try {
        if (!isKey(k)) throw ApiErrors.badRequest(`unknown configuration key ${k.slice(0, 64)}`);
        out.set(k, checkValue(k, v));
      } catch (e) {
        problems.push(`configurations.overwrite_json: ${(e as Error).message}`);
      }
    }
    if (problems.length) throw new ConfigError(problems);
    return out;
  }

  /** The defaults (config file / environment), before any stored value. */
  defaults(): ConfigValues {
    const out = {} as Record<ConfigKey, unknown>;
    for (const k of CONFIG_KEY_NAMES) out[k] = CONFIG_KEYS[k].default(this.config);
    return out as unknown as ConfigValues;
  }

  private async load(): Promise<Readonly<ConfigValues>> {
    const out = this.defaults() as unknown as Record<ConfigKey, unknown>;
    for (const [k, text] of await this.repo.listConfigurations()) {
      if (!isKey(k)) continue;
      try {
        let v: unknown = JSON.parse(text);
        if (CONFIG_KEYS[k].secret && this.box && typeof v === 'string' && v.startsWith('v1:')) {
          try {
            v = this.box.open(v);
          } catch {
            // not sealed by us: a plain value stored before secrets were sealed
          }
        }
        out[k] = checkValue(k, v);
      } catch {
        // A value that no longer validates (a key whose rules tightened) falls back to the default.
      }
    }
    for (const [k, v] of this.pinned) out[k] = v;
    this.latest = Object.freeze(out as unknown as ConfigValues);
    return this.latest;
  }

  all(): Promise<Readonly<ConfigValues>> {
    const now = Date.now();
    if (!this.cache || this.cache.until <= now) {
      const values = this.load();
      this.cache = { until: now + CACHE_TTL_MS, values };
      // A failed read is not cached.
      values.catch(() => {
        if (this.cache?.values === values) this.cache = null;
      });
    }
    return this.cache.values;
  }

  async get<K extends ConfigKey>(key: K): Promise<ConfigValues[K]> {
    return (await this.all())[key];
  }

  /**
   * The last loaded value (the default before the first load), for synchronous callers such as the token
   * lifetime; a stale cache is refreshed in the background.
   */
  peek<K extends ConfigKey>(key: K): ConfigValues[K] {
    if (!this.cache || this.cache.until <= Date.now()) this.all().catch(() => {});
    return (this.latest ?? this.defaults())[key];
  }

  /** Called after any process changed keys (e.g. to drop login caches when auth settings change). */
  onChange(listener: (changed: readonly ConfigKey[]) => void): void {
    this.listeners.push(listener);
  }

  /** Harbor's GET /configurations body: `{key: {value, editable}}`, secrets left out. */
  async publicView(): Promise<Record<string, { value: unknown; editable: boolean }>> {
    const v = (await this.all()) as unknown as Record<ConfigKey, unknown>;
    const out: Record<string, { value: unknown; editable: boolean }> = {};
    // Like Harbor: auth_mode is editable only while no user but admin exists (PUT refuses a change otherwise).
    const authModeLocked = await this.hasNonAdminUsers();
    for (const k of CONFIG_KEY_NAMES) {
      if (CONFIG_KEYS[k].secret && !CONFIG_KEYS[k].listedEmpty) continue;
      out[k] = { value: CONFIG_KEYS[k].secret ? '' : v[k], editable: !this.pinned.has(k) && !(k === 'auth_mode' && authModeLocked) };
    }
    // Harbor's ConfigurationsResponse carries scan_all_policy (a policy object, not a {value, editable} item);
    // Berth has no scanner yet, so it is always "none".
    (out as Record<string, unknown>).scan_all_policy = { type: 'none' };
    return out;
  }

  /**
   * GET /internalconfig: Harbor's flat {key: {value, editable}} of every stored key. Harbor serves it to its own
   * components with passwords included; Berth has no such components and serves it to sysadmins, so secrets are
   * left out here too.
   */
  async internalView(): Promise<Record<string, { value: unknown; editable: boolean }>> {
    const out = await this.publicView();
    delete (out as Record<string, unknown>).scan_all_policy;
    delete out.uaa_client_secret;
    return out;
  }

  /**
   * Validates every key of `input` (unknown keys and wrong types: 400, nothing stored), then stores them in one
   * transaction. Returns the keys whose value changed.
   */
  async update(actor: string, input: Record<string, unknown>): Promise<ConfigKey[]> {
    const next = new Map<ConfigKey, unknown>();
    for (const [k, v] of Object.entries(input)) {
      // Harbor's clients send every key and null for "not given" (the swagger marks some x-isnullable).
      if (v === null) continue;
      if (!isKey(k)) throw ApiErrors.badRequest(`unknown configuration key ${k.slice(0, 64)}`);
      next.set(k, checkValue(k, v));
    }
    const locked = [...next.keys()].filter((k) => this.pinned.has(k));
    if (locked.length) throw ApiErrors.forbidden(`not editable (set by configurations.overwrite_json): ${locked.join(', ')}`);
    this.cache = null;
    const current = (await this.all()) as unknown as Record<ConfigKey, unknown>;
    const changed = [...next.keys()].filter((k) => current[k] !== next.get(k));
    if (changed.includes('auth_mode') && (await this.hasNonAdminUsers()))
      throw ApiErrors.forbidden('the auth mode cannot be modified as new users have been inserted into the database');
    const merged = { ...current, ...Object.fromEntries(next) } as unknown as ConfigValues;
    if (merged.skip_audit_log_database && !merged.audit_log_forward_endpoint)
      throw ApiErrors.badRequest('skip_audit_log_database needs audit_log_forward_endpoint to be set');
    if (next.size)
      await this.db.tx((q) =>
        this.repo.saveConfigurations(
          new Map([...next].map(([k, v]) => [k, JSON.stringify(CONFIG_KEYS[k].secret && this.box && typeof v === 'string' && v !== '' ? this.box.seal(v) : v)])),
          q,
        ),
      );
    this.cache = null;
    await this.all();
    // Key names only: values may be secrets.
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'configuration', resource: 'configurations', detail: JSON.stringify([...next.keys()].sort()) });
    if (changed.length) {
      // Through the bus: this process's listeners at once, the other processes' within milliseconds.
      if (this.bus) await this.bus.publish('config', changed.join(','));
      else for (const l of this.listeners) l(changed);
    }
    return changed;
  }
}
