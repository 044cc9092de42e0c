import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboundGuard, OutboundRefusedError } from './outbound-guard.ts';
import { sendOutbound } from './outbound-client.ts';

const refused = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => e instanceof OutboundRefusedError && re.test(e.message));

test('literal addresses in every denied range are refused, public ones pass', async () => {
  const g = new OutboundGuard();
  const cases: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['[::1]', /loopback/],
    ['169.254.169.254', /cloud metadata|link-local/],
    ['[fd00:ec2::254]', /cloud metadata/],
    ['169.254.10.1', /link-local/],
    ['[fe80::1]', /link-local/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['[fc00::1]', /unique local/],
    ['[fd12:3456::1]', /unique local/],
    ['0.0.0.0', /unspecified/],
    ['[::]', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['[ff02::1]', /multicast/],
    ['[::ffff:127.0.0.1]', /loopback/],
    ['[::ffff:a9fe:a9fe]', /cloud metadata|link-local/],
    ['100.64.0.1', /shared/],
  ];
  for (const [host, re] of cases) await refused(g.checkUrl(`http://${host}/hook`), re);
  assert.equal(g.refusal('8.8.8.8'), null);
  assert.equal(g.refusal('172.32.0.1'), null);
  assert.equal(g.refusal('2606:4700::1111'), null);
  assert.equal((await g.checkUrl('https://1.1.1.1/x')).hostname, '1.1.1.1');
});

test('URLs: only http(s), no credentials', async () => {
  const g = new OutboundGuard();
  await refused(g.checkUrl('ftp://1.1.1.1/'), /scheme/);
  await refused(g.checkUrl('file:///etc/passwd'), /scheme/);
  await refused(g.checkUrl('http://user:pw@1.1.1.1/'), /credentials/);
  await refused(g.checkUrl('not a url'), /invalid URL/);
});

test('a host name is refused when any of its addresses is refused', async () => {
  const g = new OutboundGuard({ resolve: async (h) => (h === 'mixed.test' ? [{ address: '1.2.3.4', family: 4 }, { address: '10.0.0.5', family: 4 }] : [{ address: '93.184.216.34', family: 4 }]) });
  await refused(g.checkUrl('http://mixed.test/'), /mixed\.test resolves to 10\.0\.0\.5.*private/);
  assert.equal((await g.resolveChecked('public.test'))[0]!.address, '93.184.216.34');
  const failing = new OutboundGuard({ resolve: async () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })) });
  await refused(failing.checkUrl('http://nowhere.test/'), /cannot resolve nowhere\.test: ENOTFOUND/);
  // Saved targets may name a host that does not resolve yet; every connection is checked again.
  assert.equal((await failing.checkUrl('http://nowhere.test/x', { allowUnresolved: true })).href, 'http://nowhere.test/x');
  await refused(g.checkUrl('http://mixed.test/', { allowUnresolved: true }), /not allowed/);
});

test('the allowlist: CIDRs, single addresses, host names and domains', async () => {
  const entries = OutboundGuard.parseAllowlist(' 127.0.0.0/8, ::1/128 ,hooks.internal,.corp.example,192.168.5.5');
  assert.deepEqual(entries, ['127.0.0.0/8', '::1/128', 'hooks.internal', '.corp.example', '192.168.5.5']);
  const g = new OutboundGuard({ allowlist: entries, resolve: async () => [{ address: '10.9.9.9', family: 4 }] });
  await g.checkUrl('http://127.0.0.1:8080/');
  await g.checkUrl('http://[::1]/');
  await g.checkUrl('http://192.168.5.5/');
  await refused(g.checkUrl('http://192.168.5.6/'), /private/);
  await g.checkUrl('http://hooks.internal/');
  await g.checkUrl('http://a.b.corp.example/');
  await g.checkUrl('http://corp.example/');
  await refused(g.checkUrl('http://evilcorp.example/'), /10\.9\.9\.9.*private/);
  await refused(g.checkUrl('http://169.254.169.254/'), /metadata|link-local/);
  assert.throws(() => OutboundGuard.parseAllowlist('10.0.0.0/33'), /not a CIDR/);
  assert.throws(() => OutboundGuard.parseAllowlist('bad host!'), /not a CIDR, IP address or host name/);
});

test('DNS rebinding: the request connects to the address that was checked, and a refused answer never connects', async () => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    // First answer public (passes a save-time check), every later one loopback: the delivery-time lookup refuses.
    let calls = 0;
    const g = new OutboundGuard({ resolve: async () => (calls++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]) });
    await g.checkUrl(`http://rebind.test:${port}/`);
    const err = await new Promise<Error>((res) => {
      const r = request({ host: 'rebind.test', port, path: '/', lookup: g.lookup as never }, () => res(new Error('connected')));
      r.on('error', res);
      r.end();
    });
    assert.ok(err instanceof OutboundRefusedError, String(err));
    assert.match(err.message, /127\.0\.0\.1.*loopback/);
    assert.equal(hits, 0);
    // Allow-listed, the name resolves (once) and the socket goes to exactly that address.
    const ok = new OutboundGuard({ allowlist: ['127.0.0.1/32'], resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const status = await new Promise<number>((res, rej) => {
      const r = request({ host: 'receiver.test', port, path: '/', lookup: ok.lookup as never }, (resp) => {
        resp.resume();
        res(resp.statusCode!);
      });
      r.on('error', rej);
      r.end();
    });
    assert.equal(status, 200);
    assert.equal(hits, 1);
  } finally {
    server.close();
  }
});

test('an IP-literal URL is checked at send time too (Node skips lookup for literals)', async () => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    // Saved while the allowlist covered it; the allowlist changed since: the request is refused, nothing sent.
    await refused(sendOutbound(new OutboundGuard({}), { method: 'POST', url: `http://127.0.0.1:${port}/hook`, headers: {}, body: '{}', timeoutMs: 2000 }), /127\.0\.0\.1.*loopback/);
    assert.equal(hits, 0);
    const ok = await sendOutbound(new OutboundGuard({ allowlist: ['127.0.0.1/32'] }), { method: 'POST', url: `http://127.0.0.1:${port}/hook`, headers: {}, body: '{}', timeoutMs: 2000 });
    assert.equal(ok.status, 200);
    assert.equal(hits, 1);
  } finally {
    server.close();
  }
});
