// SyslogForwarder: RFC 5424 formatting (structured-data escaping, no control characters), endpoint parsing,
// octet-counted frames over a real TCP socket, and a receiver that stops reading never makes memory grow unbounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { formatSyslog, frame, parseEndpoint, SyslogForwarder } from './syslog-forwarder.ts';
import type { AuditRow } from './buffered-sink.ts';

const row = (o: Partial<AuditRow> = {}): AuditRow => ({
  username: 'alice',
  operation: 'create',
  resourceType: 'artifact',
  resource: 'p/r:v1',
  projectId: 7,
  detail: null,
  opTime: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  ...o,
});

test('RFC 5424 message with escaped structured data and no control characters', () => {
  const m = formatSyslog(row({ username: 'a"b]c\\d', resource: 'x\ny', detail: 'line1\r\nline2' }), 'host name');
  assert.match(m, /^<110>1 2026-01-02T03:04:05\.006Z host_name audit \d+ create_artifact \[audit@32473 /);
  assert.ok(m.includes('user="a\\"b\\]c\\\\d"'), m);
  assert.ok(!/[\x00-\x1f]/.test(m), 'no control characters');
  assert.ok(m.includes('project_id="7"'));
  assert.ok(m.includes('result="success"'));
  assert.ok(formatSyslog(row({ operation: 'login_failed', resourceType: 'user' }), 'h').includes(' login_user [') );
  assert.ok(formatSyslog(row({ operation: 'login_failed', resourceType: 'user' }), 'h').includes('result="failure"'));
  const f = frame('héllo');
  assert.equal(f.toString('utf8'), '6 héllo');
});

test('endpoints: host:port and [v6]:port only', () => {
  assert.deepEqual(parseEndpoint('syslog.example.com:514'), { host: 'syslog.example.com', port: 514 });
  assert.deepEqual(parseEndpoint('[::1]:6514'), { host: '::1', port: 6514 });
  for (const bad of ['', 'host', 'host:0', 'host:70000', 'a b:1', 'http://x:1', '::1:514']) assert.equal(parseEndpoint(bad), null, bad);
});

test('frames arrive in order over TCP; a receiver that stops reading makes frames drop, not memory grow', async () => {
  const sockets: Socket[] = [];
  let received = Buffer.alloc(0);
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => (received = Buffer.concat([received, d])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const ep = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const fw = new SyslogForwarder({ hostname: 'h' });
  try {
    for (let i = 0; i < 3; i++) fw.send(row({ resource: `p/r:${i}` }), ep);
    for (let i = 0; i < 100 && received.toString().split('p/r:').length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    const text = received.toString('utf8');
    const frames: string[] = [];
    let rest = text;
    while (rest.length) {
      const sp = rest.indexOf(' ');
      const len = Number(rest.slice(0, sp));
      frames.push(rest.slice(sp + 1, sp + 1 + len));
      rest = rest.slice(sp + 1 + len);
    }
    assert.deepEqual(frames.map((f) => /resource="([^"]+)"/.exec(f)![1]), ['p/r:0', 'p/r:1', 'p/r:2']);

    // Stop reading: the kernel buffers fill, then the forwarder drops instead of queueing without bound.
    for (const s of sockets) s.pause();
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 1000; i++) fw.send(row({ detail: big }), ep);
    assert.ok(fw.dropped > 0, `dropped ${fw.dropped}`);
    assert.ok(process.memoryUsage().rss < 2 * 1024 ** 3);
  } finally {
    await Promise.race([fw.close(), new Promise((r) => setTimeout(r, 3000))]);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
