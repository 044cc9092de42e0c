// One outbound HTTP request to a user-given URL (webhook targets now; replication endpoints and scanners later).
// Every connection goes through the OutboundGuard's lookup, so the socket reaches exactly the address the guard
// checked (DNS rebinding cannot swap it after the check), and redirects are never followed (a 3xx could point
// anywhere). The response body is read up to a small cap: it is only shown in logs.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { OutboundGuard } from './outbound-guard.ts';

export interface OutboundRequest {
  method: 'POST' | 'GET' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Whole request (connect, send, response headers and the capped body), ms. */
  timeoutMs: number;
  /** Skip TLS certificate verification (the target's `skip_cert_verify`). */
  insecure?: boolean;
  signal?: AbortSignal;
  /** Read the whole body up to this many bytes into `bytes` (a download); larger bodies fail the request. */
  maxBodyBytes?: number;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first `MAX_BODY` bytes of the body, as text. */
  body: string;
  /** The whole body, when the request set `maxBodyBytes`. */
  bytes?: Buffer;
}

const MAX_BODY = 4096;

export class OutboundTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'OutboundTimeoutError';
  }
}

export function sendOutbound(guard: OutboundGuard, r: OutboundRequest): Promise<OutboundResponse> {
  const url = new URL(r.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  try {
    guard.checkLiteral(url.hostname);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const headers: Record<string, string> = { ...r.headers };
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, res?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const opts = {
      method: r.method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers,
      lookup: guard.lookup,
      // A fresh connection per request: a pooled socket would skip the lookup (and so the check) next time.
      agent: false as const,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !r.insecure, ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }) } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(opts, (res) => {
      const chunks: Buffer[] = [];
      const cap = r.maxBodyBytes ?? MAX_BODY;
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (r.maxBodyBytes !== undefined && size + c.length > cap) {
          req.destroy();
          done(new Error(`response body larger than ${cap} bytes`));
          return;
        }
        if (size < cap) chunks.push(c.subarray(0, cap - size));
        size += c.length;
      });
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        done(null, { status: res.statusCode ?? 0, headers: res.headers, body: all.subarray(0, MAX_BODY).toString('utf8'), ...(r.maxBodyBytes !== undefined ? { bytes: all } : {}) });
      });
      res.on('error', (e) => done(e));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(new OutboundTimeoutError(r.timeoutMs));
    }, r.timeoutMs);
    const onAbort = () => {
      req.destroy();
      done(new Error('request aborted'));
    };
    r.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => done(e));
    req.end(body);
  });
}
