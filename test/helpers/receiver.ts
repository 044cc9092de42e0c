// A real HTTP receiver for webhook tests: records every request (method, path, headers, body) and answers with
// what the test sets — a status (default 200), or holding requests until released.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export class Receiver {
  readonly requests: Received[] = [];
  /** Status answered to the next requests (a function sees how many arrived before). */
  respond: (n: number, r: Received) => number = () => 200;
  /** Requests for which this holds are recorded but never answered (the sender sees a delivery in flight). */
  hold: (r: Received) => boolean = () => false;
  private server: Server | null = null;
  private waiters: { pred: (rs: Received[]) => boolean; resolve: () => void }[] = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        if (this.hold(r)) {
          this.requests.push(r);
          this.check();
          return;
        }
        const status = this.respond(this.requests.length, r);
        this.requests.push(r);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
        this.check();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests to `path` whose JSON body satisfies `match`. */
  matching(path: string, match: (body: Record<string, unknown>) => boolean = () => true): Received[] {
    return this.requests.filter((r) => r.path === path && match(JSON.parse(r.body) as Record<string, unknown>));
  }

  /** Resolves once `pred` holds for the requests so far; rejects after `ms` with what arrived. */
  waitFor(pred: (rs: Received[]) => boolean, ms = 20_000): Promise<void> {
    if (pred(this.requests)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: () => (clearTimeout(t), resolve()) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`receiver: condition not met in ${ms} ms; got ${this.requests.length} requests: ${this.requests.map((r) => `${r.path} ${r.body.slice(0, 160)}`).join('\n')}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  private check(): void {
    for (const w of [...this.waiters]) if (w.pred(this.requests)) (this.waiters = this.waiters.filter((x) => x !== w)), w.resolve();
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));
  }
}
