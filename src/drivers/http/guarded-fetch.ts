// A fetch for clients that take one (openid-client, jose) when the URL is user-given (the OIDC endpoint, its
// token/userinfo/JWKS URLs): an adapter over sendOutbound, so every connection goes through the OutboundGuard's
// lookup, redirects are never followed, and `insecure` skips certificate verification (Harbor's
// oidc_verify_cert = false). Small bodies only (discovery documents, JWKS, token responses).
import { sendOutbound } from './outbound-client.ts';
import type { OutboundGuard } from './outbound-guard.ts';

const MAX_BODY = 1024 * 1024;
/** An upper bound; the clients also pass their own shorter timeouts as an abort signal. */
const TIMEOUT_MS = 30_000;

type FetchOptions = { method?: string; headers?: Headers | Record<string, string> | [string, string][]; body?: unknown; signal?: AbortSignal | null; redirect?: string };
export type GuardedFetch = (url: string, options: FetchOptions) => Promise<Response>;

export function guardedFetch(guard: OutboundGuard, o: { insecure?: boolean } = {}): GuardedFetch {
  return async (url, options) => {
    const method = (options.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT') throw new Error(`unsupported method ${method}`);
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (headers[k] = v));
    const body = options.body === undefined || options.body === null ? undefined : typeof options.body === 'string' ? options.body : String(options.body);
    const r = await sendOutbound(guard, {
      method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: TIMEOUT_MS,
      insecure: o.insecure === true,
      maxBodyBytes: MAX_BODY,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const h = new Headers();
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
    // A Response cannot carry a body for 204/304; redirects are handed back as they are (never followed).
    return new Response(r.status === 204 || r.status === 304 ? null : r.bytes!, { status: r.status, headers: h });
  };
}
