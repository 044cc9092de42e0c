// Built-in TLS through real clients, each trusting a test CA made by openssl (never skipping verification):
// HTTP/2 and HTTP/1.1 on one port, the HTTP → HTTPS redirect, streaming blobs over HTTP/2, podman login and skopeo
// copy (--cert-dir), crane (SSL_CERT_FILE), docker login (client side, SSL_CERT_FILE), the portal in Chromium, and
// certificate reload on SIGHUP and on file change without dropping open connections. Last: bad files stop the start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ClientHttp2Session } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { chromium } from 'playwright-core';
import { ROOT, NODE, startBerth, type Berth } from '../helpers/berth.ts';
import { buildOciImage, startDistributionRegistry, createContainersEnv, createGoClients, dockerCliPath, freePort, makeTempDir, randomFiles, readImageFiles, run, sha256, untar, waitFor, type ContainersEnv, type GoClients } from '../helpers/clients.ts';
import { createTestCa, fingerprintOf, nonLoopbackIpv4, spkiHash, type TestCa } from '../helpers/tls.ts';
import { ensurePortalBuilt, newContext, uiLogin } from '../helpers/browser.ts';
import { assertSameFiles, berthTail } from '../clients/lib.ts';

// docker treats 127.0.0.0/8 as an insecure registry (it would not verify the certificate): the listener binds a
// non-loopback address when the machine has one, so every client here verifies.
const IP = nonLoopbackIpv4() ?? '127.0.0.1';

interface Got {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  fingerprint: string;
  reused: boolean;
  socket: TLSSocket;
}
function httpsGet(port: number, path: string, opts: { agent?: Agent; ca: Buffer; headers?: Record<string, string> }): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: IP, port, path, agent: opts.agent ?? false, ca: opts.ca, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      // Taken now: a keep-alive socket goes back to the agent (res.socket = null) once the body has ended.
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, fingerprint, reused: req.reusedSocket, socket });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
function h2(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = session.request(headers);
    const chunks: Buffer[] = [];
    let head: Record<string, unknown> = {};
    s.on('response', (h) => (head = h));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    s.on('error', reject);
    if (body) {
      // In pieces, so the upload is a stream of DATA frames (flow control included), not one buffer.
      let at = 0;
      const pump = () => {
        while (at < body.length) {
          const piece = body.subarray(at, at + 256 * 1024);
          at += piece.length;
          if (!s.write(piece)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    } else s.end();
  });
}

describe('built-in TLS', { timeout: 900_000 }, () => {
  let ca: TestCa;
  let berth: Berth;
  let work: string;
  let certFile: string;
  let keyFile: string;
  let caPem: Buffer;
  let httpPort: number;
  let host: string;
  let cenv: ContainersEnv;
  let go: GoClients;
  const creds = () => `${berth.adminUser}:${berth.adminPassword}`;
  const basic = () => 'Basic ' + Buffer.from(creds()).toString('base64');
  /** Puts a freshly issued pair where Berth reads its certificate (key first: a watcher sees the pair complete). */
  const install = (name: string, opts: { keyOf?: string } = {}) => {
    const p = ca.issue(name, { ips: [IP] });
    copyFileSync(opts.keyOf ? join(ca.dir, `${opts.keyOf}.key`) : p.key, keyFile);
    copyFileSync(p.cert, certFile);
    return fingerprintOf(p.cert);
  };

  before(async () => {
    ca = createTestCa();
    caPem = readFileSync(ca.caCert);
    work = makeTempDir('tls');
    certFile = join(work, 'server.crt');
    keyFile = join(work, 'server.key');
    install('first');
    httpPort = await freePort();
    berth = await startBerth({
      env: {
        BERTH_HTTP_HOST: IP,
        BERTH_HTTP_PORT: String(httpPort),
        BERTH_HTTPS_PORT: '0',
        BERTH_HTTPS_CERTIFICATE: certFile,
        BERTH_HTTPS_PRIVATE_KEY: keyFile,
        BERTH_HTTPS_REDIRECT_HTTP: 'true',
        // The replication peer (a Distribution registry) listens on loopback.
        BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      },
    });
    host = `${IP}:${berth.port}`;
    cenv = await createContainersEnv({ driver: 'vfs' });
    go = await createGoClients();
  });
  after(async () => {
    await cenv?.stop();
    await go?.stop();
    await berth?.stop();
    rmSync(ca?.dir ?? '/nonexistent', { recursive: true, force: true });
  });

  test('one port speaks HTTP/2 (ALPN h2) and HTTP/1.1; the http port redirects with 308 to the same path', async () => {
    assert.match(berth.output(), /listening on https:\/\/.*TLS with HTTP\/2 and HTTP\/1\.1/);
    const session = connect(`https://${host}`, { ca: caPem });
    try {
      const r = await h2(session, { ':path': '/api/v2.0/ping', ':method': 'GET' });
      assert.equal((session.socket as TLSSocket).alpnProtocol, 'h2');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'Pong');
      // URLs built from the request (the /v2 challenge) see the :authority and the https scheme.
      const ch = await h2(session, { ':path': '/v2/', ':method': 'GET' });
      assert.equal(ch.status, 401);
      assert.match(String(ch.headers['www-authenticate']), new RegExp(`realm="https://${host.replace(/\./g, '\\.')}/service/token"`));
    } finally {
      session.close();
    }
    const one = await httpsGet(berth.port, '/api/v2.0/systeminfo', { ca: caPem, headers: { authorization: basic() } });
    assert.equal(one.socket.alpnProtocol, false, 'a client without ALPN gets HTTP/1.1');
    assert.equal(one.status, 200);
    assert.equal(JSON.parse(one.body.toString()).external_url, `https://${host}`, 'external_url defaults to https with TLS on');
    const redirect = await new Promise<{ status: number; location?: string }>((resolve, reject) =>
      httpRequest({ host: IP, port: httpPort, path: '/v2/library/x/manifests/1?n=2', method: 'PUT', headers: { 'content-length': '3' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      })
        .on('error', reject)
        .end('abc'),
    );
    assert.deepEqual(redirect, { status: 308, location: `https://${host}/v2/library/x/manifests/1?n=2` });
  });

  test('a blob streams up and down over HTTP/2 (monolithic PUT, then GET and a range)', async () => {
    const blob = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < blob.length; i += 4096) blob.writeUInt32BE((i * 2654435761) >>> 0, i);
    const digest = sha256(blob);
    const session = connect(`https://${host}`, { ca: caPem });
    try {
      const start = await h2(session, { ':method': 'POST', ':path': '/v2/library/h2blob/blobs/uploads/', authorization: basic(), 'content-length': '0' });
      assert.equal(start.status, 202, start.body.toString());
      const loc = String(start.headers.location);
      const path = new URL(loc, `https://${host}`).pathname + new URL(loc, `https://${host}`).search;
      const put = await h2(session, { ':method': 'PUT', ':path': `${path}${path.includes('?') ? '&' : '?'}digest=${digest}`, authorization: basic(), 'content-type': 'application/octet-stream', 'content-length': String(blob.length) }, blob);
      assert.equal(put.status, 201, put.body.toString());
      const got = await h2(session, { ':method': 'GET', ':path': `/v2/library/h2blob/blobs/${digest}`, authorization: basic() });
      assert.equal(got.status, 200);
      assert.equal(got.body.length, blob.length);
      assert.ok(got.body.equals(blob), 'the bytes come back as sent');
      const range = await h2(session, { ':method': 'GET', ':path': `/v2/library/h2blob/blobs/${digest}`, authorization: basic(), range: 'bytes=100-199' });
      assert.equal(range.status, 206);
      assert.ok(range.body.equals(blob.subarray(100, 200)));
    } finally {
      session.close();
    }
  });

  test('podman login and skopeo copy trust the CA through --cert-dir (and refuse without it)', async () => {
    const certDir = join(work, 'certs.d');
    mkdirSync(certDir, { recursive: true });
    copyFileSync(ca.caCert, join(certDir, 'ca.crt'));
    const untrusted = await cenv.podman(['login', '--username', berth.adminUser, '--password-stdin', host], { input: berth.adminPassword, allowFail: true });
    assert.notEqual(untrusted.code, 0, 'without the CA the certificate is not trusted');
    assert.match(untrusted.stderr, /certificate|x509/i);
    const ok = await cenv.podman(['login', '--cert-dir', certDir, '--username', berth.adminUser, '--password-stdin', host], { input: berth.adminPassword });
    assert.match(ok.stdout + ok.stderr, /Login Succeeded/);
    const img = await buildOciImage(join(work, 'layout'), { tag: 'v1', files: randomFiles(3, 64 * 1024) });
    const ref = `docker://${host}/library/tls-skopeo:v1`;
    await cenv.skopeo(['copy', '--dest-cert-dir', certDir, '--dest-creds', creds(), img.ref, ref]);
    const back = join(work, 'back');
    await cenv.skopeo(['copy', '--src-cert-dir', certDir, '--src-creds', creds(), ref, `oci:${back}:v1`]);
    assertSameFiles(await readImageFiles(back, 'v1'), img.files, 'skopeo over TLS');
    const inspect = JSON.parse((await cenv.skopeo(['inspect', '--cert-dir', certDir, '--creds', creds(), ref])).stdout);
    assert.equal(inspect.Digest, img.manifestDigest);
  });

  test('crane pushes and pulls with the CA in SSL_CERT_FILE', async () => {
    const env = { SSL_CERT_FILE: ca.caCert };
    const untrusted = await go.crane(['catalog', host], { allowFail: true });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /x509|certificate/);
    await go.crane(['auth', 'login', host, '-u', berth.adminUser, '--password-stdin'], { input: berth.adminPassword, env });
    const img = await buildOciImage(join(work, 'crane-layout'), { tag: 'c1' });
    await go.crane(['push', join(work, 'crane-layout'), `${host}/library/tls-crane:c1`], { env });
    const digest = (await go.crane(['digest', `${host}/library/tls-crane:c1`], { env })).stdout.trim();
    assert.equal(digest, img.manifestDigest);
    // The flattened filesystem of the pulled image (crane export) holds the files that were pushed.
    const exported = await go.crane(['export', `${host}/library/tls-crane:c1`, '-'], { env });
    assertSameFiles(untar(exported.stdoutBytes), img.files, 'crane over TLS');
  });

  test('docker login (client side, no engine) verifies the certificate against the CA', { skip: IP === '127.0.0.1' ? 'no non-loopback address: docker would not verify on 127.0.0.0/8' : false }, async () => {
    const dockerDir = makeTempDir('docker-cfg');
    try {
      // No engine: the CLI logs in itself when the daemon socket does not answer.
      const env = { DOCKER_CONFIG: dockerDir, DOCKER_HOST: `unix://${join(dockerDir, 'no-engine.sock')}` };
      const untrusted = await run(dockerCliPath(), ['login', host, '-u', berth.adminUser, '--password-stdin'], { env, input: berth.adminPassword });
      assert.notEqual(untrusted.code, 0, `without the CA docker refuses: ${untrusted.stdout}`);
      assert.match(untrusted.stderr, /x509|certificate/);
      const ok = await run(dockerCliPath(), ['login', host, '-u', berth.adminUser, '--password-stdin'], { env: { ...env, SSL_CERT_FILE: ca.caCert }, input: berth.adminPassword });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /Login Succeeded/);
      const cfg = JSON.parse(readFileSync(join(dockerDir, 'config.json'), 'utf8'));
      assert.ok(cfg.auths[host], 'credentials stored for the https registry');
    } finally {
      rmSync(dockerDir, { recursive: true, force: true });
    }
  });

  test('the portal works over HTTPS in Chromium (HTTP/2, Secure session cookie)', async () => {
    ensurePortalBuilt();
    // Chromium has no CA option without an NSS database (no certutil here): it is told to accept exactly this
    // server key (SPKI pin) and nothing else.
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--ignore-certificate-errors-spki-list=${spkiHash(certFile)}`],
    });
    try {
      const ctx = await newContext(browser, { viewport: { width: 1400, height: 900 }, locale: 'en-US' });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await uiLogin(page, `https://${host}`, berth.adminUser, berth.adminPassword);
      await page.locator('[data-testid=projects-table]').getByText('library').first().waitFor();
      const protocol = await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol');
      assert.equal(protocol, 'h2');
      const sid = (await ctx.cookies()).find((c) => c.name === 'sid');
      assert.ok(sid?.secure, 'the session cookie is Secure over HTTPS');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test('replication reads the local registry over the HTTPS listener (push to a Distribution registry)', async () => {
    const peer = await startDistributionRegistry();
    try {
      const api = async (method: string, path: string, body?: unknown) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        return new Promise<{ status: number; text: string; location?: string }>((resolve, reject) => {
          const req = httpsRequest(
            { host: IP, port: berth.port, method, path: `/api/v2.0${path}`, ca: caPem, headers: { authorization: basic(), ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), location: res.headers.location }));
            },
          );
          req.on('error', reject);
          req.end(payload);
        });
      };
      const idOf = (r: { status: number; text: string; location?: string }) => {
        assert.equal(r.status, 201, r.text);
        return Number(r.location!.split('/').pop());
      };
      const env = { SSL_CERT_FILE: ca.caCert };
      await go.crane(['auth', 'login', host, '-u', berth.adminUser, '--password-stdin'], { input: berth.adminPassword, env });
      const img = await buildOciImage(join(work, 'repl-layout'), { tag: 'r1' });
      await go.crane(['push', join(work, 'repl-layout'), `${host}/library/tls-repl:r1`], { env });
      const ep = idOf(await api('POST', '/registries', { name: 'plain-peer', type: 'docker-registry', url: peer.url }));
      const policy = idOf(await api('POST', '/replication/policies', { name: 'tls-out', dest_registry: { id: ep }, trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'library/tls-repl' }], override: true, enabled: true }));
      const ex = idOf(await api('POST', '/replication/executions', { policy_id: policy }));
      let e: { status: string } = { status: 'InProgress' };
      for (const end = Date.now() + 60_000; e.status === 'InProgress' && Date.now() < end; await new Promise((r) => setTimeout(r, 300)))
        e = JSON.parse((await api('GET', `/replication/executions/${ex}`)).text);
      assert.equal(e.status, 'Succeed', JSON.stringify(e));
      const pulled = await go.crane(['digest', '--insecure', `${peer.host}/library/tls-repl:r1`]);
      assert.equal(pulled.stdout.trim(), img.manifestDigest, 'the image arrived at the peer unchanged');
    } finally {
      await peer.stop();
    }
  });

  test('certificate reload: SIGHUP and a file change swap the certificate; open connections carry on', async () => {
    const first = fingerprintOf(certFile);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
    const session = connect(`https://${host}`, { ca: caPem });
    try {
      const a = await httpsGet(berth.port, '/api/v2.0/ping', { agent, ca: caPem });
      assert.equal(a.fingerprint, first);
      assert.equal((await h2(session, { ':path': '/api/v2.0/ping' })).status, 200);

      const second = install('second');
      berth.process.kill('SIGHUP');
      await waitFor('reload on SIGHUP', async () => berth.output().includes('TLS certificate reloaded (SIGHUP)'), { timeoutMs: 10_000 }).catch(() => assert.fail(berthTail(berth)));
      const fresh = await httpsGet(berth.port, '/api/v2.0/ping', { ca: caPem });
      assert.equal(fresh.fingerprint, second, 'a new connection gets the new certificate');
      const again = await httpsGet(berth.port, '/api/v2.0/ping', { agent, ca: caPem });
      assert.ok(again.reused, 'the keep-alive connection was reused');
      assert.equal(again.socket, a.socket);
      assert.equal(again.status, 200);
      assert.equal(again.fingerprint, first, 'an open connection keeps the certificate it was made with');
      assert.equal((await h2(session, { ':path': '/api/v2.0/ping' })).status, 200, 'an open HTTP/2 session too');

      const third = install('third');
      await waitFor('reload on file change', async () => (await httpsGet(berth.port, '/api/v2.0/ping', { ca: caPem })).fingerprint === third, { timeoutMs: 20_000 }).catch(() => assert.fail(`no reload on file change\n${berthTail(berth)}`));
      assert.match(berth.output(), /TLS certificate reloaded \(file change\)/);

      // A certificate whose key does not match is refused: the one in use stays.
      install('fourth', { keyOf: 'first' });
      berth.process.kill('SIGHUP');
      await waitFor('refused reload', async () => /TLS certificate not reloaded \(SIGHUP\).*does not match/.test(berth.output()), { timeoutMs: 10_000 }).catch(() => assert.fail(berthTail(berth)));
      const still = await httpsGet(berth.port, '/api/v2.0/ping', { ca: caPem });
      assert.equal(still.fingerprint, third);
      const last = await httpsGet(berth.port, '/api/v2.0/ping', { agent, ca: caPem });
      assert.ok(last.reused && last.status === 200, 'the first connection is still open after three reloads');
    } finally {
      agent.destroy();
      session.close();
    }
  });
});

describe('TLS files that cannot be used stop the start', { timeout: 120_000 }, () => {
  const serve = (env: Record<string, string>) =>
    run(NODE, [join(ROOT, 'src', 'cli.ts'), 'serve'], { env: { BERTH_DATA_DIR: makeTempDir('tls-bad'), BERTH_HTTP_HOST: '127.0.0.1', BERTH_HTTP_PORT: '0', BERTH_HTTPS_PORT: '0', ...env }, timeoutMs: 60_000 });
  test('missing certificate, unreadable key, key of another certificate: exit 78 naming the key', async () => {
    const ca = createTestCa();
    const a = ca.issue('a');
    const b = ca.issue('b');
    try {
      const [missing, unreadable, mismatch] = await Promise.all([
        serve({ BERTH_HTTPS_CERTIFICATE: join(ca.dir, 'nope.crt'), BERTH_HTTPS_PRIVATE_KEY: a.key }),
        serve({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: ca.dir }),
        serve({ BERTH_HTTPS_CERTIFICATE: a.cert, BERTH_HTTPS_PRIVATE_KEY: b.key }),
      ]);
      assert.equal(missing.code, 78, missing.stderr);
      assert.match(missing.stderr, /https\.certificate: cannot read .*nope\.crt \(ENOENT\)/);
      assert.equal(unreadable.code, 78);
      assert.match(unreadable.stderr, /https\.private_key: cannot read .*\(EISDIR\)/);
      assert.equal(mismatch.code, 78);
      assert.match(mismatch.stderr, /https\.private_key: .*b\.key does not match the certificate/);
      for (const r of [missing, unreadable, mismatch]) assert.doesNotMatch(r.stdout, /listening/, 'never half-started');
      assert.doesNotMatch(mismatch.stderr, /PRIVATE KEY/, 'the key text is never printed');
    } finally {
      rmSync(ca.dir, { recursive: true, force: true });
    }
  });
});
