// A fetch for clients that take one (openid-client, jose) when the URL is user-given (the OIDC endpoint, its
// token/userinfo/JWKS URLs): every connection goes through the OutboundGuard's lookup, so it reaches only an address
// the guard allows (security.outbound_allowlist), redirects are never followed, and `insecure` skips certificate
// verification (Harbor's oidc_verify_cert = false). node:http(s) underneath; small bodies only (discovery
// documents, JWKS, token responses).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { OutboundGuard } from './outbound-guard.ts';

const MAX_BODY = 1024 * 1024;

type FetchOptions = { method?: string; headers?: Headers | Record<string, string> | [string, string][]; body?: unknown; signal?: AbortSignal | null; redirect?: string };
export type GuardedFetch = (url: string, options: FetchOptions) => Promise<Response>;

export function guardedFetch(guard: OutboundGuard, o: { insecure?: boolean } = {}): GuardedFetch {
  return async (raw, options) => {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${url.protocol}`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    guard.checkLiteral(host);
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (headers[k] = v));
    const body = options.body === undefined || options.body === null ? undefined : typeof options.body === 'string' ? options.body : String(options.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const https = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          method: options.method ?? 'GET',
          host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers,
          lookup: guard.lookup,
          agent: false,
          signal: options.signal ?? undefined,
          ...(https ? { rejectUnauthorized: !o.insecure, ...(isIP(host) ? {} : { servername: host }) } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error('response too large'));
            else chunks.push(c);
          });
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
            const status = res.statusCode ?? 500;
            // A Response cannot carry a body for 204/304; redirects are handed back as they are (never followed).
            resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  };
}
