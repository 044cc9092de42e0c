// The LDAP wire protocol behind a small interface (LdapDriver/LdapConnection), implemented with ldapts.
// Services build filters with escapeFilterValue (RFC 4515) and never see ldapts types.
import { Client, InvalidCredentialsError, ResultCodeError, NoSuchObjectError } from 'ldapts';

export interface LdapEndpoint {
  /** ldap://host[:port] or ldaps://host[:port]; a bare host means ldap://. */
  url: string;
  /** Connect and per-operation timeout, ms. */
  timeoutMs: number;
  /** Verify the server certificate for ldaps:// (ldap_verify_cert). */
  verifyCert: boolean;
}

export interface LdapEntry {
  dn: string;
  /** Attribute values by lower-cased attribute name. */
  attrs: Record<string, string[]>;
}

export interface LdapSearch {
  /** 0 base, 1 one level, 2 subtree (Harbor's ldap_scope numbers). */
  scope: 0 | 1 | 2;
  filter: string;
  attributes: string[];
  sizeLimit?: number;
}

/** Why an LDAP operation failed, without any credential in the message. */
export class LdapError extends Error {
  readonly kind: 'invalid_credentials' | 'no_such_object' | 'unavailable' | 'protocol';
  constructor(kind: LdapError['kind'], message: string) {
    super(message);
    this.name = 'LdapError';
    this.kind = kind;
  }
}

export interface LdapConnection {
  /** Simple bind; LdapError('invalid_credentials') when refused. Empty passwords are refused here, before the wire. */
  bind(dn: string, password: string): Promise<void>;
  search(baseDn: string, s: LdapSearch): Promise<LdapEntry[]>;
  close(): Promise<void>;
}

export interface LdapDriver {
  connect(endpoint: LdapEndpoint): LdapConnection;
}

/** RFC 4515 escaping of an assertion value: `\` `*` `(` `)` NUL (and every other control character) as \XX. */
export function escapeFilterValue(v: string): string {
  let out = '';
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '*' || ch === '(' || ch === ')' || c < 0x20 || c === 0x7f) out += '\\' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** DN compared the way directories do for our purposes: RDNs trimmed, case-insensitive. */
export function normalizeDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)=/)
        .map((s) => s.trim())
        .join('='),
    )
    .join(',')
    .toLowerCase();
}

/** Whether `dn` is `base` or below it. */
export function dnIsUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return b === '' || d === b || d.endsWith(',' + b);
}

/** A syntactically plausible DN (attr=value pairs separated by commas, no control characters). */
export function isDn(dn: unknown): dn is string {
  return typeof dn === 'string' && dn.length > 0 && dn.length <= 1024 && !/[\x00-\x1f\x7f]/.test(dn) && dn.split(/(?<!\\),/).every((r) => /^\s*[A-Za-z0-9.-]+\s*=\s*\S/.test(r));
}

export function endpointUrl(url: string): string {
  return /^[a-z]+:\/\//i.test(url) ? url : `ldap://${url}`;
}

const SCOPES = { 0: 'base', 1: 'one', 2: 'sub' } as const;

function wrap(err: unknown): LdapError {
  if (err instanceof LdapError) return err;
  if (err instanceof InvalidCredentialsError) return new LdapError('invalid_credentials', 'invalid credentials');
  if (err instanceof NoSuchObjectError) return new LdapError('no_such_object', 'no such object');
  if (err instanceof ResultCodeError) return new LdapError('protocol', `LDAP error ${err.code}: ${err.message}`);
  const e = err as NodeJS.ErrnoException;
  return new LdapError('unavailable', `LDAP server unavailable: ${e.code ?? e.message ?? String(err)}`);
}

class LdaptsConnection implements LdapConnection {
  private readonly client: Client;
  constructor(endpoint: LdapEndpoint) {
    const url = endpointUrl(endpoint.url);
    this.client = new Client({
      url,
      timeout: endpoint.timeoutMs,
      connectTimeout: endpoint.timeoutMs,
      tlsOptions: url.startsWith('ldaps:') ? { rejectUnauthorized: endpoint.verifyCert } : undefined,
      strictDN: false,
    });
  }
  async bind(dn: string, password: string): Promise<void> {
    // An empty password is an "unauthenticated bind" (RFC 4513 §5.1.2) that many servers accept: never send one.
    if (!password) throw new LdapError('invalid_credentials', 'empty password');
    try {
      await this.client.bind(dn, password);
    } catch (err) {
      throw wrap(err);
    }
  }
  async search(baseDn: string, s: LdapSearch): Promise<LdapEntry[]> {
    try {
      const r = await this.client.search(baseDn, { scope: SCOPES[s.scope], filter: s.filter, attributes: s.attributes, sizeLimit: s.sizeLimit ?? 0 });
      return r.searchEntries.map((e) => {
        const attrs: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(e)) {
          if (k === 'dn') continue;
          const list = Array.isArray(v) ? v : [v];
          attrs[k.toLowerCase()] = list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
        }
        return { dn: e.dn, attrs };
      });
    } catch (err) {
      const w = wrap(err);
      if (w.kind === 'no_such_object') return [];
      throw w;
    }
  }
  async close(): Promise<void> {
    try {
      await this.client.unbind();
    } catch {
      // already closed
    }
  }
}

export class LdaptsDriver implements LdapDriver {
  connect(endpoint: LdapEndpoint): LdapConnection {
    return new LdaptsConnection(endpoint);
  }
}
