// Audit log forwarding against a real Berth and a real TCP syslog receiver in this test: with
// audit_log_forward_endpoint set at runtime (PUT /configurations), every audit event (API changes, pushes,
// pulls) arrives as an RFC 5424 message framed by octet counting; skip_audit_log_database then keeps events out of
// the database while still forwarding them; an unreachable endpoint never fails a push; the forwarder reconnects
// when the receiver comes back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { RegistryClient } from '../helpers/registry-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();

/** A syslog-over-TCP receiver that parses octet-counted frames strictly. */
class Receiver {
  messages: string[] = [];
  errors: string[] = [];
  server: Server;
  sockets = new Set<Socket>();
  port = 0;
  constructor() {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 0) return;
          const lenText = buf.subarray(0, sp).toString('ascii');
          if (!/^[1-9][0-9]{0,8}$/.test(lenText)) {
            this.errors.push(`bad frame length ${JSON.stringify(lenText)}`);
            s.destroy();
            return;
          }
          const len = Number(lenText);
          if (buf.length < sp + 1 + len) return;
          this.messages.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
          buf = buf.subarray(sp + 1 + len);
        }
      });
    });
  }
  async listen(port = 0): Promise<number> {
    await new Promise<void>((res) => this.server.listen(port, '127.0.0.1', () => res()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
  async waitFor(pred: (m: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no syslog message for ${what}; got:\n${this.messages.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

// RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
const RFC5424 = /^<(\d{1,3})>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z) ([\x21-\x7e]{1,255}) audit (\d{1,128}) ([\x21-\x7e]{1,32}) (\[audit@32473(?: [a-z_]+="(?:[^"\\\]]|\\["\\\]])*")+\])(?: (.*))?$/s;

function parse(m: string) {
  const x = RFC5424.exec(m);
  assert.ok(x, `not an RFC 5424 message: ${m}`);
  const sd: Record<string, string> = {};
  for (const p of x[6].matchAll(/ ([a-z_]+)="((?:[^"\\\]]|\\["\\\]])*)"/g)) sd[p[1]] = p[2].replace(/\\(["\\\]])/g, '$1');
  return { pri: Number(x[1]), time: x[2], host: x[3], procid: x[4], msgid: x[5], sd, msg: x[7] ?? '' };
}

const receivers: Receiver[] = [];
after(async () => {
  await f.admin.call('PUT', '/configurations', { skip_audit_log_database: false, audit_log_forward_endpoint: '' }).catch(() => {});
  for (const r of receivers) await r.close().catch(() => {});
});

test('every audit event is forwarded as an RFC 5424 frame; skip_audit_log_database keeps them out of the database', async () => {
  const rx = new Receiver();
  receivers.push(rx);
  const port = await rx.listen();
  expectApi(await f.admin.call('PUT', '/configurations', { audit_log_forward_endpoint: `127.0.0.1:${port}` }), 200);

  await f.admin.createProject('fwd-proj', false);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  const img = await reg.pushImage('fwd-proj/app', 'v1');
  assert.equal((await reg.getManifest('fwd-proj/app', 'v1')).status, 200);

  const proj = parse(await rx.waitFor((m) => m.includes('resource="fwd-proj"'), 'project creation'));
  assert.equal(proj.msgid, 'create_project');
  assert.equal(proj.sd.user, 'admin');
  assert.equal(proj.sd.resource_type, 'project');
  assert.equal(proj.pri, 110); // facility 13 (log audit), severity 6 (informational)
  assert.ok(Math.abs(Date.parse(proj.time) - Date.now()) < 60_000);

  const push = parse(await rx.waitFor((m) => m.includes('resource="fwd-proj/app:v1"') && m.includes('operation="create"'), 'the push'));
  assert.equal(push.msgid, 'create_artifact');
  assert.equal(push.sd.result, 'success');
  assert.match(push.msg, /fwd-proj\/app:v1/);
  const pull = parse(await rx.waitFor((m) => m.includes('resource="fwd-proj/app:v1"') && m.includes('operation="pull"'), 'the pull'));
  assert.equal(pull.msgid, 'pull_artifact');
  assert.deepEqual(rx.errors, []);
  // Event rows are forwarded once, after the dispatcher's transaction commits.
  assert.equal(rx.messages.filter((m) => m.includes('resource="fwd-proj/app:v1"') && m.includes('operation="create"')).length, 1);

  // The same events are in the database too (forwarding does not replace it by default).
  const inDb = await f.admin.call('GET', '/audit-logs?q=resource%3D~fwd-proj/app&page_size=100');
  assert.ok((inDb.json() as any[]).some((x) => x.operation === 'create'));

  // skip_audit_log_database: forwarded, not stored (and not allowed without an endpoint).
  expectApi(await f.admin.call('PUT', '/configurations', { audit_log_forward_endpoint: '', skip_audit_log_database: true }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', '/configurations', { skip_audit_log_database: true }), 200);
  await reg.request('DELETE', `/v2/fwd-proj/app/manifests/${img.digest}`);
  const del = parse(await rx.waitFor((m) => m.includes(`resource="fwd-proj/app@${img.digest}"`), 'the delete'));
  assert.equal(del.msgid, 'delete_artifact');
  await new Promise((r) => setTimeout(r, 1500)); // past a buffered flush
  const after = await f.admin.call('GET', `/audit-logs?q=${encodeURIComponent(`resource=fwd-proj/app@${img.digest}`)}`);
  expectApi(after, 200);
  assert.deepEqual(after.json(), [], 'not written to the database');
  expectApi(await f.admin.call('PUT', '/configurations', { skip_audit_log_database: false }), 200);
});

test('an unreachable endpoint never fails a push; the forwarder reconnects when the receiver is back', async () => {
  // A port nobody listens on (bound and released).
  const probe = new Receiver();
  const port = await probe.listen();
  await probe.close();
  expectApi(await f.admin.call('PUT', '/configurations', { audit_log_forward_endpoint: `127.0.0.1:${port}` }), 200);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  await reg.pushImage('fwd-proj/down', 'v1');
  assert.equal((await reg.getManifest('fwd-proj/down', 'v1')).status, 200);

  // The receiver comes up on that port: later events arrive (and the ones queued meanwhile may too).
  const rx = new Receiver();
  receivers.push(rx);
  await rx.listen(port);
  const deadline = Date.now() + 15_000;
  let got = false;
  while (!got && Date.now() < deadline) {
    await reg.getManifest('fwd-proj/down', 'v1');
    got = rx.messages.some((m) => m.includes('resource="fwd-proj/down:v1"'));
    if (!got) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(got, 'events arrive after the receiver came back');
  for (const m of rx.messages) parse(m);
  assert.deepEqual(rx.errors, []);
});
