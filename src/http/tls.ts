// Built-in TLS: the secure server behind Fastify (HTTP/2 with HTTP/1.1 fallback, or HTTPS/1.1), certificate
// reload without dropping connections, and the optional plain-HTTP listener that redirects to HTTPS.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { readFileSync, watchFile, unwatchFile, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import type { Config } from '../config/config.ts';
import { checkTlsFiles, ConfigError } from '../config/config.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Keep-alive and timeouts as the plain server has them: no request timeout (uploads may be long). */
const KEEP_ALIVE_MS = 65_000;

export interface TlsControl {
  /** Fastify's serverFactory: builds the secure server with the current certificate. */
  serverFactory: (handler: Handler) => HttpServer;
  /** Re-reads the files; a bad pair is refused (the old certificate stays) and reported. */
  reload(reason: string): boolean;
  /** Starts watching the files (poll: survives the symlink swaps of Kubernetes secrets and certbot renewals). */
  watch(): void;
  close(): void;
}

function readPair(config: Config): { cert: Buffer; key: Buffer } {
  const problems = checkTlsFiles(config.https.certificate, config.https.privateKey);
  if (problems.length) throw new ConfigError(problems);
  return { cert: readFileSync(config.https.certificate), key: readFileSync(config.https.privateKey) };
}

export function createTls(config: Config, log: (level: 'info' | 'error', msg: string) => void, watchIntervalMs = 1000): TlsControl {
  let current = readPair(config);
  let fingerprint = hashPair(current);
  let server: TlsServer | null = null;
  let watching = false;
  const files = [config.https.certificate, config.https.privateKey];
  let timer: NodeJS.Timeout | null = null;
  const onChange = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
    // Certificate and key are often written one after the other: wait for both before checking the pair.
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      control.reload('file change');
    }, 300);
    timer.unref();
  };
  const control: TlsControl = {
    serverFactory(handler) {
      const common = { cert: current.cert, key: current.key, minVersion: 'TLSv1.2' as const };
      const s = config.https.http2
        ? // HTTP/2 by ALPN for clients that offer it (Go clients, browsers); everyone else gets HTTP/1.1.
          createSecureServer({ ...common, allowHTTP1: true }, handler as never)
        : createHttpsServer(common, handler);
      // Fastify leaves a factory's server as it is: the HTTP/1.1 timeouts of the plain server, set here.
      const h1 = s as unknown as { keepAliveTimeout: number; requestTimeout: number; headersTimeout: number };
      h1.keepAliveTimeout = KEEP_ALIVE_MS;
      h1.requestTimeout = 0;
      h1.headersTimeout = 60_000;
      if (config.https.http2) {
        // An idle HTTP/2 connection is closed gracefully after the same time as an idle HTTP/1.1 one.
        (s as Http2SecureServer).on('session', (session) => session.setTimeout(KEEP_ALIVE_MS, () => session.close()));
      }
      server = s as unknown as TlsServer;
      return s as unknown as HttpServer;
    },
    reload(reason) {
      let next;
      try {
        next = readPair(config);
      } catch (e) {
        const msg = e instanceof ConfigError ? e.problems.join('; ') : (e as Error).message;
        log('error', `TLS certificate not reloaded (${reason}), the previous one stays in use: ${msg}`);
        return false;
      }
      const fp = hashPair(next);
      if (fp === fingerprint) return true;
      // New handshakes use the new context; open connections keep theirs (nothing is dropped).
      server?.setSecureContext({ cert: next.cert, key: next.key });
      current = next;
      fingerprint = fp;
      log('info', `TLS certificate reloaded (${reason})`);
      return true;
    },
    watch() {
      if (watching) return;
      watching = true;
      for (const f of files) watchFile(f, { interval: watchIntervalMs, persistent: false }, onChange);
    },
    close() {
      if (timer) clearTimeout(timer);
      if (watching) for (const f of files) unwatchFile(f, onChange);
      watching = false;
    },
  };
  return control;
}

function hashPair(p: { cert: Buffer; key: Buffer }): string {
  return createHash('sha256').update(p.cert).update('\0').update(p.key).digest('hex');
}

/**
 * The plain listener of `https.redirect_http`: every request is answered with 308 to the same path on HTTPS (308
 * keeps the method and body, so a client that PUTs to http:// is not turned into a GET).
 */
export function createRedirectServer(config: Config, httpsPort: () => number): HttpServer {
  const s = createHttpServer((req, res) => {
    let target: string;
    if (config.http.externalUrl.startsWith('https://')) target = config.http.externalUrl;
    else {
      const host = String(req.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:\[\]-]/g, '');
      // The Host header's port is the plain one: replace it with the HTTPS port.
      const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
      const port = httpsPort();
      target = `https://${name || 'localhost'}${port === 443 ? '' : `:${port}`}`;
    }
    res.writeHead(308, { Location: target + (req.url ?? '/'), 'Content-Length': '0' });
    res.end();
    // An unread request body is not waited for.
    if (!req.complete) req.resume();
  });
  s.keepAliveTimeout = 5000;
  return s;
}
