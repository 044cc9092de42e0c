// The scan API end to end on a real Berth: scanner registrations (the built-in one and an external Pluggable
// Scanner API adapter answering on loopback), scans of pushed images (a small Debian-like OS layer plus the real
// npm layer of test/helpers/scan-images.ts) against fixture OSV advisories written here, Harbor's report and
// scan_overview shapes, an index scanned through its children, stop, scan all, scan on push through the event seam
// with a webhook receiving SCANNING_COMPLETED, prevent_vul refusing a pull with 412 until the CVE is allow-listed,
// and a re-match after an advisory import changing a report without a new scan.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectApi, useApi } from '../api/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { MediaTypes, RegistryClient } from '../helpers/registry-client.ts';
import { Receiver } from '../helpers/receiver.ts';
import { npmLayer } from '../helpers/scan-images.ts';
import { tar } from '../helpers/tar.ts';

const REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';
const CRIT = [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }];
const osv = (id: string, ecosystem: string, name: string, events: Record<string, string>[], more: Record<string, unknown> = {}) => ({
  id,
  modified: '2026-01-01T00:00:00Z',
  summary: `${name} fixture`,
  affected: [{ package: { ecosystem, name }, ranges: [{ type: ecosystem === 'npm' ? 'SEMVER' : 'ECOSYSTEM', events }] }],
  ...more,
});
const FEED = [
  // openssl 3.0.20-1~deb12u2 is below 3.0.20-1 (`~` sorts first): Critical
  osv('DSA-9002-1', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.20-1' }], { aliases: ['CVE-2099-0004'], severity: CRIT }),
  // zlib (source of zlib1g, with an epoch) last_affected the installed version: no fix
  osv('DEBIAN-CVE-2099-0005', 'Debian:12', 'zlib', [{ introduced: '0' }, { last_affected: '1:1.2.13.dfsg-1' }]),
  // the npm layer: express 4.21.2 below the fix (Medium), left-pad 1.3.0 in a versions list
  osv('GHSA-0000-0000-0001', 'npm', 'express', [{ introduced: '4.0.0' }, { fixed: '4.22.0' }], { aliases: ['CVE-2099-0009'], database_specific: { severity: 'MODERATE' } }),
  { id: 'GHSA-0000-0000-0002', modified: '2026-01-01T00:00:00Z', summary: 'left-pad', affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, versions: ['1.1.0', '1.3.0'] }] },
  // fixed below the installed version: no finding
  osv('DSA-9001-1', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.19-1~deb12u1' }], { aliases: ['CVE-2099-0003'] }),
];
const EXPECTED = [
  ['CVE-2099-0004', 'openssl', '3.0.20-1~deb12u2', '3.0.20-1', 'Critical'],
  ['CVE-2099-0009', 'express', '4.21.2', '4.22.0', 'Medium'],
  ['CVE-2099-0005', 'zlib1g', '1:1.2.13.dfsg-1', '', 'Unknown'],
  ['GHSA-0000-0000-0002', 'left-pad', '1.3.0', '', 'Unknown'],
];

const feedDir = mkdtempSync(join(tmpdir(), 'berth-scanfeed-'));
writeFileSync(join(feedDir, 'feed.json'), JSON.stringify(FEED));

const f = useApi({
  env: {
    BERTH_SCANNER_ADVISORIES: feedDir,
    // Re-imported every 2 s, so the re-match test sees a new record soon.
    BERTH_SCANNER_ADVISORIES_UPDATE_INTERVAL: '2',
    BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
  },
});
after(() => rmSync(feedDir, { recursive: true, force: true }));

const sfx = randomBytes(3).toString('hex');
let reg: RegistryClient;
let npmBytes: Buffer | undefined;

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const DPKG_STATUS = [
  'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n',
  'Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.20-1~deb12u2\n',
  'Package: libold\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0-1\n',
].join('\n');
const OS_TAR = tar([{ path: 'etc/os-release', body: OS_RELEASE }, { path: 'var/lib/dpkg/status', body: DPKG_STATUS }]);

/** An image of the two layers; `nonce` makes each push a distinct artifact (its own digest and report). */
async function pushScanImage(repo: string, tag: string | null, arch = 'amd64') {
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const c = await reg.pushBlob(repo, config);
  // The same layer bytes in every image (a blob push of existing content is cheap).
  const os = await reg.pushBlob(repo, OS_TAR);
  const app = await reg.pushBlob(repo, (npmBytes ??= readFileSync(npmLayer())));
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: { mediaType: MediaTypes.OciConfig, digest: c.digest, size: c.size },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: os.digest, size: os.size },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: app.digest, size: app.size },
    ],
  });
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const m = await reg.pushManifest(repo, tag ?? digest, body, MediaTypes.OciManifest);
  return { digest: m.digest, size: Buffer.byteLength(body) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(v).slice(0, 2000)}`);
    await sleep(250);
    v = await read();
  }
  return v;
}
const artifactPath = (p: string, r: string, ref: string) => `/projects/${p}/repositories/${encodeURIComponent(r)}/artifacts/${ref}`;
const overviewOf = async (p: string, r: string, ref: string) => {
  const res = await f.admin.call('GET', `${artifactPath(p, r, ref)}?with_scan_overview=true`);
  expectApi(res, 200);
  return res.json().scan_overview?.[REPORT_MIME] as Record<string, any> | undefined;
};
const scanned = async (p: string, r: string, ref: string, total = 4): Promise<Record<string, any>> =>
  (await until(`scan of ${p}/${r}:${ref}`, () => overviewOf(p, r, ref), (o) => o?.scan_status === 'Success' && o.summary?.total === total))!;
const findings = async (p: string, r: string, ref: string) => {
  const res = await f.admin.call('GET', `${artifactPath(p, r, ref)}/additions/vulnerabilities`);
  expectApi(res, 200);
  const report = res.json()[REPORT_MIME];
  return report ? (report.vulnerabilities as Record<string, any>[]).map((v) => [v.id, v.package, v.version, v.fix_version, v.severity]) : null;
};

/** A Pluggable Scanner API adapter that answers its metadata only with the right API key. */
class FakeAdapter {
  server: Server | null = null;
  seen: IncomingHttpHeaders[] = [];
  port = 0;
  async start() {
    this.server = createServer((req, res) => {
      this.seen.push(req.headers);
      if (req.url !== '/api/v1/metadata') return res.writeHead(404).end();
      if (req.headers['x-scanneradapter-api-key'] !== 'adapter-key-1') return res.writeHead(401).end('no');
      res.writeHead(200, { 'content-type': 'application/vnd.scanner.adapter.metadata+json; version=1.0' }).end(
        JSON.stringify({
          scanner: { name: 'Fake', vendor: 'Tests', version: '0.1' },
          capabilities: [{ consumes_mime_types: [MediaTypes.OciManifest], produces_mime_types: [REPORT_MIME] }],
          properties: { 'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability' },
        }),
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  stop() {
    return new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('scanning', { timeout: 300_000 }, () => {
  const P = `scan-${sfx}`;
  const adapter = new FakeAdapter();
  const rx = new Receiver();
  before(async () => {
    await adapter.start();
    await rx.start();
    await f.admin.createProject(P, false);
    reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
    await pushScanImage(`${P}/app`, 'seed');
  });
  after(async () => {
    await adapter.stop();
    await rx.stop();
  });

  test('the built-in registration exists, is the default and cannot be changed or deleted', async () => {
    const list = await f.admin.call('GET', '/scanners');
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    const [b] = list.json();
    assert.equal(b.name, 'Berth');
    assert.equal(b.is_default, true);
    assert.equal(b.disabled, false);
    assert.equal(b.health, 'healthy');
    assert.equal(b.access_credential, '');
    assert.equal(b.capabilities, undefined, 'not in lists (generated clients cannot read it)');
    assert.deepEqual((await f.admin.call('GET', `/scanners/${b.uuid}`)).json().capabilities, { support_vulnerability: true, support_sbom: false });
    for (const k of ['uuid', 'url', 'auth', 'skip_certVerify', 'use_internal_addr', 'create_time', 'update_time', 'adapter', 'vendor', 'version']) assert.ok(k in b, k);
    const del = await f.admin.call('DELETE', `/scanners/${b.uuid}`);
    expectApi(del, 403, 'FORBIDDEN');
    assert.match(del.json().errors[0].message, /not allowed to delete as it is immutable/);
    expectApi(await f.admin.call('PUT', `/scanners/${b.uuid}`, { name: 'x', url: 'http://example.com' }), 403, 'FORBIDDEN');
    const md = await f.admin.call('GET', `/scanners/${b.uuid}/metadata`);
    expectApi(md, 200);
    assert.equal(md.json().scanner.name, 'Berth');
    assert.deepEqual(md.json().capabilities[0].produces_mime_types, [REPORT_MIME]);
    assert.ok(md.json().capabilities[0].consumes_mime_types.includes(MediaTypes.OciManifest));
    // Registrations are system admin business.
    expectApi(await f.anon.call('GET', '/scanners'), 401, 'UNAUTHORIZED');
    await f.admin.createUser(`u-${sfx}`, 'Passw0rd!x');
    expectApi(await new ApiClient(f.berth.url, `u-${sfx}`, 'Passw0rd!x').call('GET', '/scanners'), 403, 'FORBIDDEN');
    expectApi(await f.admin.call('GET', '/scanners/no-such-uuid'), 404, 'NOT_FOUND');
  });

  test('an external adapter: created with a sealed credential, pinged and read through the outbound guard, made default and deleted', async () => {
    const body = { name: `fake-${sfx}`, url: adapter.url, auth: 'X-ScannerAdapter-API-Key', access_credential: 'adapter-key-1', description: 'a fake adapter' };
    // bad input first
    expectApi(await f.admin.call('POST', '/scanners', { ...body, auth: 'Digest' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners', { ...body, access_credential: '' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners', { ...body, url: 'ftp://x' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners', { ...body, name: '' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners', { ...body, url: 'http://169.254.169.254' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners/ping', { ...body, access_credential: 'wrong' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/scanners/ping', body), 200);
    const c = await f.admin.call('POST', '/scanners', body);
    expectApi(c, 201);
    const uuid = c.headers.get('location')!.split('/').pop()!;
    expectApi(await f.admin.call('POST', '/scanners', body), 409, 'CONFLICT');
    const got = (await f.admin.call('GET', `/scanners/${uuid}`)).json();
    assert.equal(got.access_credential, '*****', 'the credential is never shown');
    assert.equal(got.health, 'healthy');
    assert.equal(got.adapter, 'Fake');
    assert.equal(got.is_default, false);
    assert.equal(adapter.seen.at(-1)!['x-scanneradapter-api-key'], 'adapter-key-1', 'the adapter got the opened credential');
    const md = await f.admin.call('GET', `/scanners/${uuid}/metadata`);
    expectApi(md, 200);
    assert.equal(md.json().scanner.vendor, 'Tests');
    assert.equal(md.json().capabilities[0].type, 'vulnerability');
    // an update without the credential keeps it
    expectApi(await f.admin.call('PUT', `/scanners/${uuid}`, { ...body, access_credential: '', description: 'changed' }), 200);
    assert.equal((await f.admin.call('GET', `/scanners/${uuid}`)).json().health, 'healthy');
    assert.equal((await f.admin.call('GET', `/scanners?name=fake`)).json().length, 1);

    // default: the external one; scans then fail with a clear error (scanning through adapters is not built)
    expectApi(await f.admin.call('PATCH', `/scanners/${uuid}`, { is_default: true }), 200);
    const all = (await f.admin.call('GET', '/scanners')).json() as Record<string, any>[];
    assert.deepEqual(all.map((s) => [s.name, s.is_default]).sort(), [['Berth', false], [`fake-${sfx}`, true]].sort());
    assert.equal((await f.admin.call('GET', `/projects/${P}/scanner`)).json().uuid, uuid);
    const refused = await f.admin.call('POST', `${artifactPath(P, 'app', 'seed')}/scan`);
    expectApi(refused, 400, 'BAD_REQUEST');
    assert.match(refused.json().errors[0].message, /external scanner .* not supported by Berth yet/);

    // the project picks the built-in one; candidates list both
    const builtin = all.find((s) => s.name === 'Berth')!.uuid;
    expectApi(await f.admin.call('PUT', `/projects/${P}/scanner`, { uuid: builtin }), 200);
    assert.equal((await f.admin.call('GET', `/projects/${P}/scanner`)).json().name, 'Berth');
    expectApi(await f.admin.call('PUT', `/projects/${P}/scanner`, { uuid: 'nope' }), 404, 'NOT_FOUND');
    const cand = await f.admin.call('GET', `/projects/${P}/scanner/candidates`);
    assert.equal(cand.headers.get('x-total-count'), '2');

    // deleting the default one hands the default back to the built-in scanner
    const del = await f.admin.call('DELETE', `/scanners/${uuid}`);
    expectApi(del, 200);
    assert.equal(del.json().uuid, uuid);
    assert.equal(del.json().access_credential, '*****');
    assert.equal((await f.admin.call('GET', '/scanners')).json()[0].is_default, true);
    assert.doesNotMatch(f.berth.output(), /adapter-key-1/, 'the credential is never logged');
  });

  test("a scan gives the expected findings in Harbor's report shape and scan_overview, with a log", async () => {
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'seed')}/scan`, { scan_type: 'sbom' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'seed')}/scan`, { scan_type: 'weird' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'nope')}/scan`), 404, 'NOT_FOUND');
    const before = await f.admin.call('GET', `${artifactPath(P, 'app', 'seed')}/additions/vulnerabilities`);
    assert.equal(before.text, '{}');
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'seed')}/scan`, { scan_type: 'vulnerability' }), 202);
    const o = await scanned(P, 'app', 'seed');
    assert.deepEqual(Object.keys(o).sort(), ['complete_percent', 'duration', 'end_time', 'report_id', 'scan_status', 'scanner', 'severity', 'start_time', 'summary']);
    assert.equal(o.severity, 'Critical');
    assert.equal(o.complete_percent, 100);
    assert.deepEqual(o.summary, { total: 4, fixable: 2, summary: { Critical: 1, Medium: 1, Unknown: 2 } });
    assert.deepEqual(o.scanner, { name: 'Berth', vendor: 'Berth', version: '1.0' });
    assert.deepEqual(await findings(P, 'app', 'seed'), EXPECTED);
    const full = (await f.admin.call('GET', `${artifactPath(P, 'app', 'seed')}/additions/vulnerabilities`)).json()[REPORT_MIME];
    assert.deepEqual(Object.keys(full).sort(), ['generated_at', 'scanner', 'severity', 'vulnerabilities']);
    const v = full.vulnerabilities[0];
    for (const k of ['id', 'package', 'version', 'fix_version', 'severity', 'description', 'links', 'preferred_cvss', 'cwe_ids', 'vendor_attributes']) assert.ok(k in v, k);
    assert.equal(v.preferred_cvss.score_v3, 9.8);
    // the list carries the overview too, and only when asked
    const list = (await f.admin.call('GET', `/projects/${P}/repositories/app/artifacts?with_scan_overview=true`)).json() as Record<string, any>[];
    assert.equal(list[0].scan_overview[REPORT_MIME].report_id, o.report_id);
    assert.equal((await f.admin.call('GET', `/projects/${P}/repositories/app/artifacts`)).json()[0].scan_overview, undefined);
    const log = await f.admin.call('GET', `${artifactPath(P, 'app', 'seed')}/scan/${o.report_id}/log`);
    expectApi(log, 200);
    assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(log.text, /inventory: debian 12, \d+ packages/);
    expectApi(await f.admin.call('GET', `${artifactPath(P, 'app', 'seed')}/scan/nope/log`), 404, 'NOT_FOUND');
    // stopping a finished scan is refused
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'seed')}/scan/stop`), 400, 'BAD_REQUEST');
    // an artifact that is not an image
    const chart = await reg.pushBlob(`${P}/app`, Buffer.from('{}'));
    const cm = await reg.pushManifest(`${P}/app`, 'chart', { schemaVersion: 2, mediaType: MediaTypes.OciManifest, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: chart.digest, size: chart.size }, layers: [] }, MediaTypes.OciManifest);
    assert.ok(cm.digest);
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'app', 'chart')}/scan`), 400, 'BAD_REQUEST');
  });

  test('an index is scanned through its children; its overview sums theirs', async () => {
    const a = await pushScanImage(`${P}/multi`, null, 'amd64');
    const b = await pushScanImage(`${P}/multi`, null, 'arm64');
    await reg.pushManifest(`${P}/multi`, 'v1', {
      schemaVersion: 2,
      mediaType: MediaTypes.OciIndex,
      manifests: [
        { mediaType: MediaTypes.OciManifest, digest: a.digest, size: a.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: MediaTypes.OciManifest, digest: b.digest, size: b.size, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    });
    expectApi(await f.admin.call('POST', `${artifactPath(P, 'multi', 'v1')}/scan`), 202);
    const o = await scanned(P, 'multi', 'v1');
    assert.deepEqual(o.summary, { total: 4, fixable: 2, summary: { Critical: 1, Medium: 1, Unknown: 2 } });
    for (const c of [a, b]) assert.equal((await overviewOf(P, 'multi', c.digest))?.scan_status, 'Success');
    assert.deepEqual(await findings(P, 'multi', 'v1'), EXPECTED);
    const log = await f.admin.call('GET', `${artifactPath(P, 'multi', 'v1')}/scan/${o.report_id}/log`);
    assert.match(log.text, /child 2\/2/);
  });

  test('a queued scan is stopped: Stopped, with SCANNING_STOPPED', async () => {
    const Q = `stop-${sfx}`;
    await f.admin.createProject(Q, false);
    expectApi(
      await f.admin.call('POST', `/projects/${Q}/webhook/policies`, {
        name: 'scan-events',
        enabled: true,
        event_types: ['SCANNING_STOPPED', 'SCANNING_COMPLETED', 'SCANNING_FAILED'],
        targets: [{ type: 'http', address: rx.url('/stop'), skip_cert_verify: false, payload_format: 'Default' }],
      }),
      201,
    );
    await pushScanImage(`${Q}/app`, 'v1');
    // The scan queue is paused, so the scan waits as Pending.
    expectApi(await f.admin.call('PUT', '/jobservice/queues/IMAGE_SCAN', { action: 'pause' }), 200);
    try {
      expectApi(await f.admin.call('POST', `${artifactPath(Q, 'app', 'v1')}/scan`), 202);
      assert.equal((await overviewOf(Q, 'app', 'v1'))?.scan_status, 'Pending');
      expectApi(await f.admin.call('POST', `${artifactPath(Q, 'app', 'v1')}/scan`), 409, 'CONFLICT');
      expectApi(await f.admin.call('POST', `${artifactPath(Q, 'app', 'v1')}/scan/stop`, { scan_type: 'vulnerability' }), 202);
      assert.equal((await overviewOf(Q, 'app', 'v1'))?.scan_status, 'Stopped');
    } finally {
      expectApi(await f.admin.call('PUT', '/jobservice/queues/IMAGE_SCAN', { action: 'resume' }), 200);
    }
    await rx.waitFor((rs) => rs.some((r) => r.path === '/stop'));
    const p = JSON.parse(rx.requests.find((r) => r.path === '/stop')!.body);
    assert.equal(p.type, 'SCANNING_STOPPED');
    assert.equal(p.event_data.resources[0].scan_overview[REPORT_MIME].scan_status, 'Stopped');
    await sleep(1500);
    assert.equal((await overviewOf(Q, 'app', 'v1'))?.scan_status, 'Stopped', 'the stopped task never ran');
  });

  test('scan on push (auto_scan) goes through the event seam and a webhook receives SCANNING_COMPLETED', async () => {
    const Q = `auto-${sfx}`;
    const r = await f.admin.call('POST', '/projects', { project_name: Q, metadata: { public: 'false', auto_scan: 'true' } });
    expectApi(r, 201);
    expectApi(
      await f.admin.call('POST', `/projects/${Q}/webhook/policies`, {
        name: 'scan-events',
        enabled: true,
        event_types: ['SCANNING_COMPLETED', 'SCANNING_FAILED'],
        targets: [{ type: 'http', address: rx.url('/auto'), skip_cert_verify: false, payload_format: 'Default' }],
      }),
      201,
    );
    const img = await pushScanImage(`${Q}/app`, 'v1');
    await rx.waitFor((rs) => rs.some((x) => x.path === '/auto'), 60_000);
    const p = JSON.parse(rx.requests.find((x) => x.path === '/auto')!.body);
    assert.equal(p.type, 'SCANNING_COMPLETED');
    assert.equal(p.operator, 'admin');
    assert.deepEqual(Object.keys(p.event_data).sort(), ['repository', 'resources', 'scan']);
    assert.deepEqual(p.event_data.scan, { scan_type: 'vulnerability' });
    const res = p.event_data.resources[0];
    assert.equal(res.digest, img.digest);
    assert.equal(res.tag, 'v1');
    assert.match(res.resource_url, new RegExp(`/${Q}/app:v1$`));
    const ov = res.scan_overview[REPORT_MIME];
    assert.equal(ov.scan_status, 'Success');
    assert.equal(ov.severity, 'Critical');
    assert.deepEqual(ov.summary, { total: 4, fixable: 2, summary: { Critical: 1, Medium: 1, Unknown: 2 } });
    assert.equal(p.event_data.repository.repo_full_name, `${Q}/app`);
    // a project without auto_scan: no scan
    await pushScanImage(`${P}/app`, 'noscan');
    await sleep(1500);
    assert.equal(await overviewOf(P, 'app', 'noscan'), undefined);
  });

  test('prevent_vul refuses a vulnerable or unscanned pull with 412 PROJECTPOLICYVIOLATION until the CVE is allow-listed', async () => {
    const Q = `prevent-${sfx}`;
    expectApi(await f.admin.call('POST', '/projects', { project_name: Q, metadata: { public: 'false', prevent_vul: 'true', severity: 'high' } }), 201);
    const img = await pushScanImage(`${Q}/app`, 'v1');
    const pull = (ref: string, method = 'GET') => reg.request(method, `/v2/${Q}/app/manifests/${ref}`, { headers: { accept: MediaTypes.OciManifest } });
    const refused = async (ref: string, re: RegExp) => {
      const r = await pull(ref);
      assert.equal(r.status, 412, r.text());
      const e = r.json().errors[0];
      assert.equal(e.code, 'PROJECTPOLICYVIOLATION');
      assert.match(e.message, re);
    };
    await refused('v1', /^current image without vulnerability scanning cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "High" or higher from running\.'/);
    assert.equal((await pull('v1', 'HEAD')).status, 200, 'HEAD is not a pull');
    expectApi(await f.admin.call('POST', `${artifactPath(Q, 'app', 'v1')}/scan`), 202);
    await scanned(Q, 'app', 'v1');
    await refused('v1', /^current image with 4 vulnerabilities cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "High" or higher from running\.' To continue with pull, please contact your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist\.$/);
    await refused(img.digest, /4 vulnerabilities/);
    // the system allowlist (reused by default) exempts the Critical one: Medium is below High
    expectApi(await f.admin.call('PUT', '/system/CVEAllowlist', { items: [{ cve_id: 'CVE-2099-0004' }] }), 200);
    const sys = (await f.admin.call('GET', '/system/CVEAllowlist')).json();
    assert.deepEqual(sys.items, [{ cve_id: 'CVE-2099-0004' }]);
    assert.equal(sys.project_id, 0);
    assert.equal((await pull('v1')).status, 200);
    // an expired allowlist exempts nothing
    expectApi(await f.admin.call('PUT', '/system/CVEAllowlist', { items: [{ cve_id: 'CVE-2099-0004' }], expires_at: Math.floor(Date.now() / 1000) - 60 }), 200);
    await refused('v1', /4 vulnerabilities/);
    expectApi(await f.admin.call('PUT', '/system/CVEAllowlist', { items: [{ cve_id: 'CVE-2099-0004' }] }), 200);
    // the project's own list once it stops reusing the system's
    const id = (await f.admin.call('GET', `/projects/${Q}`)).json().project_id;
    expectApi(await f.admin.call('PUT', `/projects/${Q}`, { metadata: { reuse_sys_cve_allowlist: 'false' } }), 200);
    await refused('v1', /4 vulnerabilities/);
    expectApi(await f.admin.call('PUT', `/projects/${Q}`, { cve_allowlist: { project_id: id, items: [{ cve_id: 'CVE-2099-0004' }] } }), 200);
    assert.equal((await pull('v1')).status, 200);
    // a lower threshold catches the Medium one; the count excludes what the list exempts
    expectApi(await f.admin.call('PUT', `/projects/${Q}`, { metadata: { severity: 'medium' } }), 200);
    await refused('v1', /^current image with 3 vulnerabilities .*"Medium"/);
    expectApi(await f.admin.call('PUT', `/projects/${Q}`, { metadata: { prevent_vul: 'false' } }), 200);
    assert.equal((await pull('v1')).status, 200);
    expectApi(await f.admin.call('PUT', '/system/CVEAllowlist', { items: [] }), 200);
    expectApi(await f.anon.call('GET', '/system/CVEAllowlist'), 401, 'UNAUTHORIZED');
    expectApi(await f.admin.call('PUT', '/system/CVEAllowlist', { items: [{ cve_id: '' }] }), 400, 'BAD_REQUEST');
  });

  test('scan all scans every image once; its metrics and schedule answer as Harbor', async () => {
    expectApi(await f.admin.call('POST', '/system/scanAll/schedule', { schedule: { type: 'Manual' } }), 201);
    const m = await until(
      'scan all',
      async () => (await f.admin.call('GET', '/scans/all/metrics')).json(),
      (s) => s.ongoing === false && s.total > 0,
    );
    assert.equal(m.completed, m.total);
    assert.equal(m.metrics.Success, m.total, JSON.stringify(m));
    assert.equal(m.trigger, 'Manual');
    assert.ok(m.total >= 5, `${m.total} scans`);
    assert.deepEqual((await f.admin.call('GET', '/scans/schedule/metrics')).json(), {});
    // the image pushed without auto_scan is scanned now
    assert.equal((await overviewOf(P, 'app', 'noscan'))?.scan_status, 'Success');
    expectApi(await f.admin.call('POST', '/system/scanAll/schedule', { schedule: { type: 'Daily' } }), 201);
    const s = (await f.admin.call('GET', '/system/scanAll/schedule')).json();
    assert.equal(s.schedule.type, 'Daily');
    assert.equal(s.schedule.cron, '0 0 0 * * *');
    expectApi(await f.admin.call('POST', '/system/scanAll/schedule', { schedule: { type: 'Weekly' } }), 412, 'PRECONDITION');
    expectApi(await f.admin.call('PUT', '/system/scanAll/schedule', { schedule: { type: 'Custom', cron: '0 0 3 * * *' } }), 200);
    assert.equal((await f.admin.call('GET', '/system/scanAll/schedule')).json().schedule.cron, '0 0 3 * * *');
    expectApi(await f.admin.call('PUT', '/system/scanAll/schedule', { schedule: { type: 'Manual' } }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('PUT', '/system/scanAll/schedule', { schedule: { type: 'None' } }), 200);
    assert.deepEqual((await f.admin.call('GET', '/system/scanAll/schedule')).json(), {});
    expectApi(await f.admin.call('POST', '/system/scanAll/schedule', { schedule: { type: 'Custom', cron: 'nope' } }), 400, 'BAD_REQUEST');
  });

  test('an advisory import re-matches stored inventories: the report changes without a new scan', async () => {
    const o = await overviewOf(P, 'app', 'seed');
    assert.equal(o?.summary.total, 4);
    writeFileSync(join(feedDir, 'more.json'), JSON.stringify(osv('GHSA-0000-0000-0003', 'npm', 'left-pad', [{ introduced: '0' }, { fixed: '1.3.1' }], { aliases: ['CVE-2099-0011'], severity: CRIT })));
    const after = await until('re-match', () => overviewOf(P, 'app', 'seed'), (x) => x?.summary.total === 5, 30_000);
    assert.equal(after!.report_id, o!.report_id, 'the same report, not a new scan');
    assert.equal(after!.end_time, o!.end_time);
    assert.deepEqual(after!.summary, { total: 5, fixable: 3, summary: { Critical: 2, Medium: 1, Unknown: 2 } });
    assert.ok((await findings(P, 'app', 'seed'))!.some((x) => x[0] === 'CVE-2099-0011'));
  });
});
