// Forwards audit events to a syslog server over TCP (Harbor's audit_log_forward_endpoint, `host:port`): one
// RFC 5424 message per event, framed by octet counting (RFC 6587 §3.4.1). APP-NAME is `audit` (Harbor's syslog
// tag), MSGID the event type (`create_artifact`), and the fields travel as structured data too. The endpoint is
// passed with every event, so changing it at runtime takes effect at the next event. Sending never blocks the caller:
// frames queue (bounded) while connecting, and on a connection error the queue is kept and a reconnect is tried
// after a back-off; frames beyond the bound are dropped and counted.
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { AuditForward, AuditRow } from './buffered-sink.ts';

/** RFC 5424 PRI: facility 13 (log audit) * 8 + severity 6 (informational). */
const PRI = 13 * 8 + 6;
/** Private enterprise number used for the structured-data id (the example PEN of RFC 5424). */
const SD_ID = 'audit@32473';
/** Bytes written to the socket but not yet sent beyond which new frames are dropped. */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export interface SyslogForwarderOptions {
  maxQueued?: number;
  retryMs?: number;
  onError?: (err: unknown) => void;
  hostname?: string;
}

/** `host:port` or `[v6]:port`, or null when malformed. */
export function parseEndpoint(s: string): { host: string; port: number } | null {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(s.trim()) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1], port };
}

const printable = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-');
const sdValue = (s: string) => s.replace(/[\\"\]]/g, (c) => '\\' + c).replace(/[\x00-\x1f\x7f]/g, ' ');
const msgText = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, ' ');

/** The event type Harbor's extended audit log uses: `<operation>_<resource_type>` (`pull_artifact`). */
export function eventType(operation: string, resourceType: string): string {
  const op = operation === 'login_failed' ? 'login' : operation;
  return `${op}_${resourceType}`;
}

/** One RFC 5424 message (without the octet-count frame). */
export function formatSyslog(row: AuditRow, host: string): string {
  const ok = !row.operation.endsWith('_failed');
  const sd =
    `[${SD_ID} user="${sdValue(row.username)}" operation="${sdValue(row.operation)}" resource_type="${sdValue(row.resourceType)}"` +
    ` resource="${sdValue(row.resource)}" result="${ok ? 'success' : 'failure'}"` +
    (row.projectId !== null ? ` project_id="${row.projectId}"` : '') +
    ']';
  const msg = msgText(`user: ${row.username}, operation: ${row.operation}, resource_type: ${row.resourceType}, resource: ${row.resource}${row.detail ? `, detail: ${row.detail}` : ''}`);
  return `<${PRI}>1 ${new Date(row.opTime).toISOString()} ${printable(host, 255)} audit ${process.pid} ${printable(eventType(row.operation, row.resourceType), 32)} ${sd} ${msg}`;
}

/** Octet-counting frame: `<length> <message>`. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export class SyslogForwarder implements AuditForward {
  private readonly maxQueued: number;
  private readonly retryMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly host: string;
  private socket: Socket | null = null;
  private connected = false;
  private current = '';
  private queue: Buffer[] = [];
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  dropped = 0;
  sent = 0;

  constructor(o: SyslogForwarderOptions) {
    this.maxQueued = o.maxQueued ?? 10_000;
    this.retryMs = o.retryMs ?? 2000;
    this.onError = o.onError ?? (() => {});
    this.host = o.hostname ?? hostname();
  }

  send(row: AuditRow, endpoint: string): void {
    if (this.closed) return;
    const ep = endpoint.trim();
    if (ep !== this.current) this.reset(ep);
    if (!ep) return;
    this.queue.push(frame(formatSyslog(row, this.host)));
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
    this.pump();
  }

  private reset(ep: string): void {
    this.socket?.destroy();
    this.socket = null;
    this.connected = false;
    this.current = ep;
    this.retryAt = 0;
    this.dropped += this.queue.length;
    this.queue = [];
  }

  private pump(): void {
    if (this.closed || !this.current) return;
    if (this.connected && this.socket) {
      const frames = this.queue;
      this.queue = [];
      for (const f of frames) {
        // A receiver that does not read: drop rather than buffer without bound.
        if (this.socket.writableLength > MAX_UNSENT_BYTES) {
          this.dropped++;
          continue;
        }
        this.socket.write(f);
        this.sent++;
      }
      return;
    }
    if (this.socket) return; // connecting
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, wait).unref();
      return;
    }
    const target = parseEndpoint(this.current);
    if (!target) {
      this.onError(new Error(`audit log forward endpoint ${JSON.stringify(this.current)} is not host:port`));
      this.dropped += this.queue.length;
      this.queue = [];
      this.retryAt = Date.now() + this.retryMs;
      return;
    }
    const ep = this.current;
    const s = connect({ host: target.host, port: target.port });
    this.socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      if (this.socket !== s) return;
      this.connected = true;
      this.pump();
    });
    const fail = (err?: Error) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.connected = false;
      s.destroy();
      if (err) this.onError(new Error(`audit log forwarding to ${ep} failed: ${err.message}`));
      this.retryAt = Date.now() + this.retryMs;
      if (this.queue.length) this.pump();
    };
    s.on('error', fail);
    s.on('close', () => fail());
    // The server never talks back; discard whatever it sends.
    s.on('data', () => {});
  }

  /** Sends what is queued if connected, then closes (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    if (this.connected && this.queue.length) for (const f of this.queue.splice(0)) s.write(f);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, 2000).unref();
      s.end(() => {
        clearTimeout(t);
        resolve();
      });
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
