// Shared pieces of the proxy-cache tests: a counting HTTP proxy in front of a real upstream registry (so the
// tests can see exactly which requests reach upstream, and make upstream answer 429 or vanish), and waiting for
// the background caching to record an artifact.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiClient } from '../helpers/api-client.ts';
import { eventually } from '../replication/helpers.ts';

export interface CountingProxy {
  url: string;
  /** Requests seen, as `METHOD /path` (no query). */
  counts: Map<string, number>;
  count(method: string, path: string): number;
  /** 'forward' (default), '429' (Docker Hub's rate limit), '500', 'truncate' (blob bodies cut after half). */
  mode: 'forward' | '429' | '500' | 'truncate';
  /** Stops listening: connections are refused (upstream down). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  let server: Server | null = null;
  let port = 0;
  const p: CountingProxy = {
    url: '',
    counts: new Map(),
    count: (method, path) => p.counts.get(`${method} ${path}`) ?? 0,
    mode: 'forward',
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async start() {
      const s = createServer((req, res) => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
        const key = `${req.method} ${path}`;
        p.counts.set(key, (p.counts.get(key) ?? 0) + 1);
        if (p.mode === '429' || p.mode === '500') {
          req.resume();
          const status = p.mode === '429' ? 429 : 500;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: status === 429 ? 'You have reached your pull rate limit' : 'upstream broke' }] }));
          return;
        }
        const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          const size = Number(up.headers['content-length'] ?? 0);
          if (p.mode === 'truncate' && req.method === 'GET' && /\/blobs\/sha256:/.test(path) && size > 1) {
            // Half the declared body, then the connection drops: a short upstream body.
            let sent = 0;
            up.on('data', (c: Buffer) => {
              const room = Math.floor(size / 2) - sent;
              if (room <= 0) return;
              res.write(c.subarray(0, room));
              sent += Math.min(room, c.length);
              if (sent >= Math.floor(size / 2)) setTimeout(() => res.destroy(), 50);
            });
            return;
          }
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        req.pipe(out);
      });
      await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
      port = (s.address() as AddressInfo).port;
      p.url = `http://127.0.0.1:${port}`;
      server = s;
    },
  };
  await p.start();
  return p;
}

/** Waits until the proxy project records the artifact (the background caching ran), returns it. */
export async function waitCached(api: ApiClient, project: string, repo: string, ref: string, digest?: string): Promise<any> {
  let art: any = null;
  await eventually(
    `${project}/${repo}:${ref} cached`,
    async () => {
      const r = await api.call('GET', `/projects/${project}/repositories/${encodeURIComponent(encodeURIComponent(repo))}/artifacts/${encodeURIComponent(ref)}`);
      if (r.status !== 200) return false;
      art = r.json();
      return digest === undefined || art.digest === digest;
    },
    60_000,
  );
  return art;
}
