// LDAP/AD directory operations with the current runtime settings (ConfigurationService): user login (search DN
// bind, user search with RFC 4515-escaped filter, bind as the user), group resolution including nested groups
// (Harbor resolves direct memberships only), ping, and user/group search for the API.
import { ApiErrors } from '../../errors.ts';
import {
  dnIsUnder,
  escapeFilterValue,
  isDn,
  LdapError,
  normalizeDn,
  type LdapConnection,
  type LdapDriver,
  type LdapEntry,
} from '../../drivers/ldap/ldap-client.ts';
import type { ConfigValues, Configurations } from '../config/configuration-service.ts';

/** Nesting levels followed from a user's direct groups, and groups collected at most, per login. */
export const MAX_GROUP_DEPTH = 10;
export const MAX_GROUPS = 500;

export interface LdapGroupRef {
  dn: string;
  name: string;
}

export interface LdapUser {
  dn: string;
  username: string;
  email: string;
  realname: string;
}

export interface LdapLogin extends LdapUser {
  /** Every group the user is in, directly or through nested groups, keyed by normalized DN. */
  groups: Map<string, LdapGroupRef>;
  /** Whether ldap_group_admin_dn is among the groups. */
  admin: boolean;
}

/** Settings of one directory connection (stored ones, or a ping body). */
export interface LdapConnSettings {
  url: string;
  searchDn: string;
  searchPassword: string;
  baseDn: string;
  filter: string;
  uid: string;
  scope: 0 | 1 | 2;
  timeoutSec: number;
  verifyCert: boolean;
}

/** Harbor's normalizeFilter (pkg/ldap): trimmed, and wrapped in parentheses when not already; '' stays ''. */
export function normalizeFilter(filter: string): string {
  const f = filter.trim();
  return f === '' || (f.startsWith('(') && f.endsWith(')')) ? f : `(${f})`;
}

const settingsOf = (c: Readonly<ConfigValues>): LdapConnSettings => ({
  url: c.ldap_url,
  searchDn: c.ldap_search_dn,
  searchPassword: c.ldap_search_password,
  baseDn: c.ldap_base_dn,
  filter: c.ldap_filter,
  uid: c.ldap_uid,
  scope: c.ldap_scope as 0 | 1 | 2,
  timeoutSec: c.ldap_timeout,
  verifyCert: c.ldap_verify_cert,
});

const first = (e: LdapEntry, attr: string): string => e.attrs[attr.toLowerCase()]?.[0] ?? '';
const firstRdnValue = (dn: string): string => {
  const rdn = dn.split(/(?<!\\),/)[0] ?? '';
  const i = rdn.indexOf('=');
  return (i < 0 ? rdn : rdn.slice(i + 1)).trim();
};
/** A username that may go into a filter at all (escaping handles the rest). */
const plausibleName = (v: string) => v.length > 0 && v.length <= 255 && !/[\x00-\x1f\x7f]/.test(v);

export class LdapService {
  private readonly driver: LdapDriver;
  private readonly configs: Configurations;
  private readonly warn: (msg: string) => void;
  constructor(deps: { driver: LdapDriver; configs: Configurations; warn?: (msg: string) => void }) {
    this.driver = deps.driver;
    this.configs = deps.configs;
    this.warn = deps.warn ?? (() => {});
  }

  /** Whether a directory is configured (ldap_url set). */
  async configured(): Promise<boolean> {
    return (await this.configs.get('ldap_url')) !== '';
  }

  private connect(s: LdapConnSettings): LdapConnection {
    return this.driver.connect({ url: s.url, timeoutMs: s.timeoutSec * 1000, verifyCert: s.verifyCert });
  }

  /** A connection bound with the search DN (anonymous when no search DN is set). */
  private async searchConnection(s: LdapConnSettings): Promise<LdapConnection> {
    const conn = this.connect(s);
    try {
      if (s.searchDn) await conn.bind(s.searchDn, s.searchPassword);
      return conn;
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  private userFilter(s: LdapConnSettings, username: string | null): string {
    const f = normalizeFilter(s.filter) || '(objectClass=*)';
    return username === null ? f : `(&${f}(${s.uid}=${escapeFilterValue(username)}))`;
  }

  private toUser(s: LdapConnSettings, e: LdapEntry): LdapUser {
    return {
      dn: e.dn,
      username: first(e, s.uid),
      email: first(e, 'mail'),
      realname: first(e, 'displayName') || first(e, 'cn'),
    };
  }

  /**
   * Checks a username and password against the directory: search the user with the search DN, then bind as the
   * user. Null for a wrong password, an unknown or ambiguous user, an empty password (never sent: an empty
   * simple bind is an anonymous bind many servers accept) or an unreachable directory.
   */
  async authenticate(username: string, password: string): Promise<LdapLogin | null> {
    if (!password || !plausibleName(username)) return null;
    const cfg = await this.configs.all();
    const s = settingsOf(cfg);
    if (!s.url) return null;
    let conn: LdapConnection | null = null;
    try {
      conn = await this.searchConnection(s);
      const found = await conn.search(s.baseDn, {
        scope: s.scope,
        filter: this.userFilter(s, username),
        attributes: [s.uid, 'mail', 'cn', 'displayName', cfg.ldap_group_membership_attribute],
        sizeLimit: 2,
      });
      // The uid attribute must equal the name given exactly (the directory matches case-insensitively, but one
      // account must have one spelling: the lockout counts failures per name), and be unique.
      const matches = found.filter((e) => e.attrs[s.uid.toLowerCase()]?.some((v) => v === username));
      if (matches.length !== 1) return null;
      const entry = matches[0];
      const userConn = this.connect(s);
      try {
        await userConn.bind(entry.dn, password);
      } finally {
        await userConn.close();
      }
      const groups = await this.resolveGroups(conn, cfg, entry, username);
      const adminDn = cfg.ldap_group_admin_dn;
      return { ...this.toUser(s, entry), username, groups, admin: !!adminDn && groups.has(normalizeDn(adminDn)) };
    } catch (e) {
      if (!(e instanceof LdapError) || e.kind !== 'invalid_credentials') this.warn(`LDAP login of ${username.slice(0, 64)} failed: ${(e as Error).message}`);
      return null;
    } finally {
      await conn?.close();
    }
  }

  /**
   * The user's groups: the membership attribute (memberOf) of the user and of each group, and, when a group base
   * DN is set, the groups under it listing the user or group as member/uniqueMember (memberUid for the user),
   * followed up to MAX_GROUP_DEPTH levels; cycles end at groups already seen.
   */
  private async resolveGroups(conn: LdapConnection, cfg: Readonly<ConfigValues>, user: LdapEntry, uid: string): Promise<Map<string, LdapGroupRef>> {
    const base = cfg.ldap_group_base_dn;
    const groupFilter = normalizeFilter(cfg.ldap_group_search_filter) || '(objectClass=*)';
    const nameAttr = cfg.ldap_group_attribute_name;
    const memberOf = cfg.ldap_group_membership_attribute.toLowerCase();
    const scope = cfg.ldap_group_search_scope as 0 | 1 | 2;
    const found = new Map<string, LdapGroupRef>();

    const parentsOf = async (dn: string, entry: LdapEntry | null, isUser: boolean): Promise<{ dn: string; name: string }[]> => {
      const out: { dn: string; name: string }[] = [];
      const e = entry ?? (await conn.search(dn, { scope: 0, filter: '(objectClass=*)', attributes: [memberOf, nameAttr] }))[0];
      if (!isUser && e) {
        const g = found.get(normalizeDn(dn));
        const n = first(e, nameAttr);
        if (g && n) g.name = n;
      }
      for (const v of e?.attrs[memberOf] ?? []) out.push({ dn: v, name: '' });
      if (base) {
        const x = escapeFilterValue(dn);
        const member = `(|(member=${x})(uniqueMember=${x})${isUser ? `(memberUid=${escapeFilterValue(uid)})` : ''})`;
        for (const g of await conn.search(base, { scope, filter: `(&${groupFilter}${member})`, attributes: [nameAttr] })) out.push({ dn: g.dn, name: first(g, nameAttr) });
      }
      return out;
    };

    let frontier: { dn: string; entry: LdapEntry | null; isUser: boolean }[] = [{ dn: user.dn, entry: user, isUser: true }];
    for (let depth = 0; depth <= MAX_GROUP_DEPTH && frontier.length; depth++) {
      const next: typeof frontier = [];
      for (const f of frontier) {
        for (const p of await parentsOf(f.dn, f.entry, f.isUser)) {
          if (!isDn(p.dn) || (base && !dnIsUnder(p.dn, base))) continue;
          const k = normalizeDn(p.dn);
          const seen = found.get(k);
          if (seen) {
            if (p.name && seen.name === firstRdnValue(seen.dn)) seen.name = p.name;
            continue;
          }
          if (found.size >= MAX_GROUPS) break;
          found.set(k, { dn: p.dn, name: p.name || firstRdnValue(p.dn) });
          if (depth < MAX_GROUP_DEPTH) next.push({ dn: p.dn, entry: null, isUser: false });
        }
      }
      frontier = next;
    }
    return found;
  }

  /**
   * Harbor's POST /ldap/ping: connect, bind with the search DN and look at the base DN. The stored password is
   * used when the body has none, but only for the stored URL and search DN (a ping must not send the stored
   * secret to another server).
   */
  async ping(body: Record<string, unknown> | null): Promise<{ success: boolean; message: string }> {
    const stored = settingsOf(await this.configs.all());
    let s = stored;
    if (body && Object.keys(body).length) {
      const str = (k: string, dflt: string) => {
        const v = body[k];
        if (v === undefined || v === null) return dflt;
        if (typeof v !== 'string' || v.length > 1024 || /[\x00-\x1f\x7f]/.test(v)) throw ApiErrors.badRequest(`${k} must be a string`);
        return v;
      };
      const int = (k: string, dflt: number, min: number, max: number) => {
        const v = body[k];
        if (v === undefined || v === null) return dflt;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw ApiErrors.badRequest(`${k} must be an integer between ${min} and ${max}`);
        return v;
      };
      const url = str('ldap_url', stored.url);
      const searchDn = str('ldap_search_dn', stored.searchDn);
      const given = body.ldap_search_password;
      let searchPassword: string;
      if (typeof given === 'string' && given !== '') searchPassword = given;
      else if (url === stored.url && searchDn === stored.searchDn) searchPassword = stored.searchPassword;
      else searchPassword = '';
      s = {
        url,
        searchDn,
        searchPassword,
        baseDn: str('ldap_base_dn', stored.baseDn),
        filter: str('ldap_filter', stored.filter),
        uid: str('ldap_uid', stored.uid),
        scope: int('ldap_scope', stored.scope, 0, 2) as 0 | 1 | 2,
        timeoutSec: int('ldap_connection_timeout', int('ldap_timeout', stored.timeoutSec, 1, 300), 1, 300),
        verifyCert: typeof body.ldap_verify_cert === 'boolean' ? body.ldap_verify_cert : stored.verifyCert,
      };
      if (!/^(ldaps?:\/\/)?[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?\/?$/.test(s.url)) throw ApiErrors.badRequest('ldap_url must be an ldap:// or ldaps:// URL');
    }
    if (!s.url) return { success: false, message: 'ldap_url is not set' };
    if (s.searchDn && !s.searchPassword) return { success: false, message: 'the search DN needs a password' };
    let conn: LdapConnection | null = null;
    try {
      conn = await this.searchConnection(s);
      if (s.baseDn) {
        const r = await conn.search(s.baseDn, { scope: 0, filter: '(objectClass=*)', attributes: ['objectClass'] });
        if (!r.length) return { success: false, message: 'the base DN was not found' };
      } else {
        // Without a search DN or base DN nothing above has talked to the server yet (the client connects
        // lazily): read the root DSE so an unreachable directory is reported as such.
        await conn.search('', { scope: 0, filter: '(objectClass=*)', attributes: ['namingContexts'] });
      }
      return { success: true, message: 'success' };
    } catch (e) {
      return { success: false, message: e instanceof LdapError && e.kind === 'invalid_credentials' ? 'invalid search DN or password' : (e as Error).message };
    } finally {
      await conn?.close();
    }
  }

  /** Runs `fn` on a search connection with the stored settings; 400 when LDAP is not configured, 503-ish 500 when down. */
  private async withDirectory<T>(fn: (conn: LdapConnection, cfg: Readonly<ConfigValues>, s: LdapConnSettings) => Promise<T>): Promise<T> {
    const cfg = await this.configs.all();
    const s = settingsOf(cfg);
    if (!s.url) throw ApiErrors.badRequest('LDAP is not configured');
    let conn: LdapConnection | null = null;
    try {
      conn = await this.searchConnection(s);
      return await fn(conn, cfg, s);
    } catch (e) {
      if (e instanceof LdapError) throw ApiErrors.badRequest(`LDAP: ${e.kind === 'invalid_credentials' ? 'invalid search DN or password' : e.message}`);
      throw e;
    } finally {
      await conn?.close();
    }
  }

  /** Users whose uid attribute equals `username` (every user of the filter, up to `limit`, when empty). */
  async searchUsers(username: string, limit = 100): Promise<LdapUser[]> {
    if (username && !plausibleName(username)) throw ApiErrors.badRequest('invalid username');
    return this.withDirectory(async (conn, _cfg, s) => {
      const r = await conn.search(s.baseDn, { scope: s.scope, filter: this.userFilter(s, username || null), attributes: [s.uid, 'mail', 'cn', 'displayName'] });
      return r
        .map((e) => this.toUser(s, e))
        .filter((u) => u.username)
        .slice(0, limit);
    });
  }

  /** Groups by name (group attribute, exact) or by DN; every group of the filter when both are empty. */
  async searchGroups(name: string, dn: string, limit = 100): Promise<LdapGroupRef[]> {
    if (name && !plausibleName(name)) throw ApiErrors.badRequest('invalid groupname');
    if (dn && !isDn(dn)) throw ApiErrors.badRequest('invalid groupdn');
    return this.withDirectory(async (conn, cfg) => {
      const nameAttr = cfg.ldap_group_attribute_name;
      const f = normalizeFilter(cfg.ldap_group_search_filter) || '(objectClass=*)';
      let entries: LdapEntry[];
      if (dn) {
        entries = await conn.search(dn, { scope: 0, filter: name ? `(&${f}(${nameAttr}=${escapeFilterValue(name)}))` : f, attributes: [nameAttr] });
      } else {
        if (!cfg.ldap_group_base_dn) throw ApiErrors.badRequest('ldap_group_base_dn is not set');
        entries = await conn.search(cfg.ldap_group_base_dn, {
          scope: cfg.ldap_group_search_scope as 0 | 1 | 2,
          filter: name ? `(&${f}(${nameAttr}=${escapeFilterValue(name)}))` : f,
          attributes: [nameAttr],
        });
      }
      return entries.slice(0, limit).map((e) => ({ dn: e.dn, name: first(e, nameAttr) || firstRdnValue(e.dn) }));
    });
  }

  /** The group at `dn` when LDAP is configured (null when it does not exist); undefined when LDAP is not configured. */
  async findGroup(dn: string): Promise<LdapGroupRef | null | undefined> {
    if (!(await this.configured())) return undefined;
    const r = await this.searchGroups('', dn, 1);
    return r[0] ?? null;
  }
}
