// A fetch for the one case Node's fetch cannot do: an https endpoint whose certificate is not to be verified
// (Harbor's oidc_verify_cert / verify_cert = false, a provider with a self-signed certificate). node:https with
// rejectUnauthorized false; small bodies only (discovery documents, JWKS, token responses).
import { request } from 'node:https';

const MAX_BODY = 1024 * 1024;

export async function insecureFetch(url: string, options: { method?: string; headers?: Headers | Record<string, string>; body?: unknown; signal?: AbortSignal | null; redirect?: string }): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (headers[k] = v));
  const body = options.body === undefined || options.body === null ? undefined : typeof options.body === 'string' ? options.body : String(options.body);
  return new Promise<Response>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, rejectUnauthorized: false, signal: options.signal ?? undefined }, (res) => {
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
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
