// Slow clients cannot take Berth down (issue #21): hundreds of connections that trickle a request body (login
// forms without credentials, authenticated blob uploads) are capped per client address and cut off once they fall
// below the minimum body rate, while a normal client keeps pushing and pulling; stalled uploads give back their part
// files and memory comes back down. The attackers connect from other loopback addresses (127.0.0.2, 127.0.0.3), so
// the per-address cap applies to them and not to the normal client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';

const started: Berth[] = [];
after(async () => {
  for (const b of started) await b.stop();
});

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface Trickler {
  socket: Socket;
  closedAt: number | null;
  sent: number;
}

/** Opens a connection from `from`, sends `head` and then one body byte per `everyMs` until the server closes it. */
function trickle(port: number, from: string, head: string, everyMs: number): Promise<Trickler> {
  return new Promise((resolve) => {
    const t: Trickler = { socket: connect({ host: '127.0.0.1', port, localAddress: from }), closedAt: null, sent: 0 };
    let timer: NodeJS.Timeout | undefined;
    t.socket.on('error', () => {});
    t.socket.on('close', () => {
      t.closedAt = Date.now();
      clearInterval(timer);
      resolve(t);
    });
    t.socket.on('connect', () => {
      t.socket.write(head);
      timer = setInterval(() => {
        if (!t.socket.destroyed) t.socket.write('a', () => t.sent++);
      }, everyMs);
      resolve(t);
    });
  });
}

test('a slow-body storm: capped per address, cut off below the minimum rate; a normal client sees no failure; memory and part files come back', { timeout: 180_000 }, async () => {
  const b = await startBerth({
    env: { BERTH_HTTP_BODY_TIMEOUT: '3', BERTH_HTTP_BODY_MIN_RATE: '16', BERTH_HTTP_MAX_CONNECTIONS_PER_CLIENT: '150', BERTH_HTTP_MAX_CONNECTIONS: '5000' },
  });
  started.push(b);
  const pid = b.process.pid!;
  const normal = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  await normal.pushImage('library/warmup', 'v1', { layers: 2 });
  const baseline = rssMb(pid);

  // Authenticated uploads, each with an open session, whose PATCH body then trickles.
  const token = await normal.token(['repository:library/stall:pull,push']);
  const sessions: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await normal.request('POST', '/v2/library/stall/blobs/uploads/');
    assert.equal(r.status, 202, String(r));
    sessions.push(r.header('location')!);
  }
  const t0 = Date.now();
  const logins = Array.from({ length: 300 }, () =>
    trickle(b.port, '127.0.0.2', `POST /c/login HTTP/1.1\r\nHost: ${b.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n`, 1000),
  );
  const uploads = sessions.map((loc) =>
    trickle(b.port, '127.0.0.3', `PATCH ${loc} HTTP/1.1\r\nHost: ${b.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`, 1000),
  );
  const attackers = await Promise.all([...logins, ...uploads]);
  await sleep(500);
  const capped = attackers.slice(0, 300).filter((t) => t.closedAt !== null).length;
  // 300 from one address against a cap of 150: at least the excess is refused straight away.
  assert.ok(capped >= 150, `connections over the per-address cap closed at once: ${capped}`);

  // Meanwhile a normal client pushes and pulls, byte for byte, without one failure.
  for (let i = 0; i < 5; i++) {
    const img = await normal.pushImage('library/normal', `v${i}`, { layers: 2 });
    const got = await normal.getManifest('library/normal', `v${i}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, img.bytes);
  }
  // Two windows of 3 s at most (plus scheduling): every trickler is gone.
  for (let i = 0; i < 100 && attackers.some((t) => t.closedAt === null); i++) await sleep(200);
  const open = attackers.filter((t) => t.closedAt === null).length;
  assert.equal(open, 0, `${open} slow connections still open`);
  const lastClose = Math.max(...attackers.map((t) => t.closedAt!)) - t0;
  assert.ok(lastClose < 15_000, `the last slow connection closed after ${lastClose} ms`);

  // Stalled uploads give their part files back; their sessions still exist (a client may resume them).
  const uploadsDir = join(b.dataDir, 'storage', 'uploads');
  const parts = existsSync(uploadsDir) ? readdirSync(uploadsDir).flatMap((d) => readdirSync(join(uploadsDir, d)).filter((f) => f.startsWith('part-'))) : [];
  assert.deepEqual(parts, []);
  const status = await normal.request('GET', sessions[0]!);
  assert.equal(status.status, 204, String(status));

  // Memory returns to about the baseline once the storm is over.
  global.gc?.();
  let rss = rssMb(pid);
  for (let i = 0; i < 20 && rss > baseline + 48; i++) {
    await sleep(500);
    rss = rssMb(pid);
  }
  process.stdout.write(`# slow-body storm: baseline ${baseline.toFixed(0)} MB, after ${rss.toFixed(0)} MB, ${capped} capped at once, last cut off after ${lastClose} ms\n`);
  assert.ok(rss < baseline + 48, `RSS ${rss.toFixed(0)} MB after the storm, baseline ${baseline.toFixed(0)} MB`);
  assert.doesNotMatch(b.output(), /"level":50/, 'no error logged for clients that were cut off');
});

test('a slow but steady upload above the minimum rate succeeds; a client that hangs up mid-body is no server error', { timeout: 120_000 }, async () => {
  const b = await startBerth({ env: { BERTH_HTTP_BODY_TIMEOUT: '2', BERTH_HTTP_BODY_MIN_RATE: '16', BERTH_LOG_LEVEL: 'info' } });
  started.push(b);
  const c = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  const token = await c.token(['repository:library/steady:pull,push']);
  const open = async () => {
    const r = await c.request('POST', '/v2/library/steady/blobs/uploads/');
    assert.equal(r.status, 202, String(r));
    return r.header('location')!;
  };
  // 100 bytes every 400 ms (250 B/s, well above 16 B/s) for about 8 s: four windows, never cut off.
  const loc = await open();
  const data = Buffer.alloc(2000, 7);
  const status = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: b.port });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.on('connect', async () => {
      s.write(`PATCH ${loc} HTTP/1.1\r\nHost: ${b.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`);
      for (let off = 0; off < data.length; off += 100) {
        s.write(data.subarray(off, off + 100));
        await sleep(400);
      }
    });
  });
  assert.match(status, /^HTTP\/1\.1 202/, status);
  const next = /location: (\S+)/i.exec(status)![1]!;
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const put = await c.request('PUT', `${next}${next.includes('?') ? '&' : '?'}digest=${digest}`);
  assert.equal(put.status, 201, String(put));
  assert.deepEqual((await c.getBlob('library/steady', digest)).body, data);

  // A client that sends half a body and hangs up: the session stays, nothing is logged as an error.
  const loc2 = await open();
  await new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: b.port });
    s.on('error', () => {});
    s.on('connect', () => {
      s.write(`PATCH ${loc2} HTTP/1.1\r\nHost: ${b.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`);
      s.write(Buffer.alloc(5000, 1), () => setTimeout(() => (s.resetAndDestroy(), resolve()), 200));
    });
  });
  await sleep(500);
  assert.equal((await c.request('GET', loc2)).status, 204);
  assert.doesNotMatch(b.output(), /"level":50|ECONNRESET[\s\S]*at /, b.output().slice(-3000));
});
