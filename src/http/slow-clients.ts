// Slow clients cannot hold the server: connection limits (in all and per client address) and a minimum rate for
// request bodies. Headers already have Node's headersTimeout; a body had no limit at all, so a client trickling one
// byte every few seconds kept a socket (and, for uploads, a part file) for as long as it liked.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface SlowClientLimits {
  /** Window in seconds; each window of a body must bring at least bodyMinRate × bodyTimeout bytes (0 = off). */
  bodyTimeout: number;
  /** Bytes per second, averaged over one window. */
  bodyMinRate: number;
  /** Open connections in all (0 = unlimited). */
  maxConnections: number;
  /** Open connections from one remote address (0 = unlimited). */
  maxConnectionsPerClient: number;
}

/** Refuses connections over the limits: closed at once, before a byte is read. */
export function limitConnections(server: Server, limits: SlowClientLimits): void {
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  if (limits.maxConnectionsPerClient <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? '';
    const n = (open.get(addr) ?? 0) + 1;
    if (n > limits.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    open.set(addr, n);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left > 0) open.set(addr, left);
      else open.delete(addr);
    });
  });
}

const hasBody = (raw: IncomingMessage): boolean => {
  const len = raw.headers['content-length'];
  return (len !== undefined && len !== '0') || raw.headers['transfer-encoding'] !== undefined;
};

/**
 * Cuts off a request whose body arrives slower than the minimum rate. A window where the server itself is not
 * reading (unread bytes buffered: the handler is busy or applying backpressure) does not count against the client.
 * The socket is destroyed: the handler's body stream fails, and an upload drops its part file.
 */
export function enforceBodyRate(app: FastifyInstance, limits: SlowClientLimits): void {
  if (limits.bodyTimeout <= 0 || limits.bodyMinRate <= 0) return;
  const windowMs = limits.bodyTimeout * 1000;
  const minBytes = limits.bodyMinRate * limits.bodyTimeout;
  app.addHook('onRequest', (req, _reply, done) => {
    const raw = req.raw;
    const socket = raw.socket as Socket | undefined;
    // HTTP/2 (built-in TLS): streams share one session socket, which must not be destroyed per request; not covered yet.
    if (raw.httpVersionMajor !== 1 || !socket || raw.complete || !hasBody(raw)) return done();
    let mark = socket.bytesRead;
    const timer = setInterval(() => {
      if (raw.complete || socket.destroyed) return clearInterval(timer);
      const got = socket.bytesRead - mark;
      mark = socket.bytesRead;
      if (raw.readableLength > 0 || got >= minBytes) return;
      clearInterval(timer);
      req.log.info({ received: got, windowSeconds: limits.bodyTimeout }, 'request body too slow: connection closed');
      socket.destroy();
    }, windowMs);
    timer.unref();
    // Keep-alive sockets carry many requests: the socket listener goes with the request.
    const stop = () => {
      clearInterval(timer);
      socket.off('close', stop);
    };
    raw.once('end', stop);
    raw.once('close', stop);
    socket.once('close', stop);
    done();
  });
}
