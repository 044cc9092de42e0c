// `BENCH_ONLY=replication node bench/run.ts` (or `node bench/replication.ts`): Berth's replication next to
// `skopeo copy --all` between the same kinds of registries, in one run, on loopback.
//
// A source Berth holds a 1 GiB single-layer image and 1,000 small artifacts (10 repositories × 100 tags, each its
// own config and 4 KiB layer). Each copy goes to a fresh, empty destination so nothing is skipped or mounted:
//   Berth → Berth (harbor adapter)          vs  skopeo copy --all  Berth → Berth
//   Berth → docker-registry (CNCF 2.8)      vs  skopeo copy --all  Berth → docker-registry
// The 1,000 small artifacts are copied by one replication execution, and by skopeo sync --all (skopeo's copy,
// one process per repository instead of 1,000 process starts). Peak RSS of the replicating Berth process
// (VmHWM, sampled) is reported against the 250 MB goal. Prints a table; writes bench/results/replication.json.
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBerth, type Berth } from '../test/helpers/berth.ts';
import { ApiClient } from '../test/helpers/api-client.ts';
import { RegistryClient } from '../test/helpers/registry-client.ts';
import { startDockerRegistry, type DockerRegistry } from '../test/replication/peers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const MiB = 1024 * 1024;
const BIG = Number(process.env.BENCH_REPLICATION_BYTES ?? 1024 * MiB);
const SMALL = Number(process.env.BENCH_REPLICATION_SMALL ?? 1000);
const REPOS = 10;
const env = { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' };
const log = (s: string) => console.log(`[replication ${new Date().toISOString().slice(11, 19)}] ${s}`);
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function hwm(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** An OCI layout with one image whose single layer is `size` pseudo-random bytes (AES-CTR keystream). */
function ociLayout(dir: string, size: number): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const tmp = join(dir, 'layer.tmp');
  const fd = openSync(tmp, 'w');
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zero = Buffer.alloc(8 * MiB);
  const h = createHash('sha256');
  for (let n = 0; n < size; n += zero.length) {
    const c = cipher.update(zero.subarray(0, Math.min(zero.length, size - n)));
    h.update(c);
    writeSync(fd, c);
  }
  closeSync(fd);
  const layerHex = h.digest('hex');
  spawnSync('mv', [tmp, join(dir, 'blobs', 'sha256', layerHex)]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] } }));
  writeFileSync(join(dir, 'blobs', 'sha256', sha256(config).slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerHex}`, size }],
    }),
  );
  writeFileSync(join(dir, 'blobs', 'sha256', sha256(manifest).slice(7)), manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }] }),
  );
}

async function skopeo(args: string[], home: string): Promise<number> {
  const t = performance.now();
  await new Promise<void>((res, rej) => {
    // A fresh HOME: no blob-info cache from an earlier copy (it would make skopeo mount instead of copy).
    const p = spawn('skopeo', args, { env: { PATH: process.env.PATH ?? '', HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`skopeo ${args[0]} failed (${code}): ${err}`))));
  });
  return (performance.now() - t) / 1000;
}

/** Runs one replication execution of a new policy; returns seconds and the source's peak RSS while it ran. */
async function replicate(src: Berth, api: ApiClient, name: string, endpoint: number, filter: string): Promise<{ s: number; peakRss: number; startRss: number; tasks: number }> {
  const c = await api.call('POST', '/replication/policies', { name, dest_registry: { id: endpoint }, trigger: { type: 'manual' }, filters: [{ type: 'name', value: filter }], override: true, enabled: true });
  if (c.status !== 201) throw new Error(`policy: ${c.status} ${c.text}`);
  const pid = Number(c.headers.get('location')!.split('/').pop());
  const pidOs = src.process.pid!;
  const startRss = rss(pidOs);
  let peak = startRss;
  const t = performance.now();
  const r = await api.call('POST', '/replication/executions', { policy_id: pid });
  if (r.status !== 201) throw new Error(`start: ${r.status} ${r.text}`);
  const ex = Number(r.headers.get('location')!.split('/').pop());
  let traced = performance.now();
  for (;;) {
    peak = Math.max(peak, rss(pidOs));
    // BENCH_TRACE=1: the source's RSS every 2 s (does it grow with the run or plateau?).
    if (process.env.BENCH_TRACE && performance.now() - traced > 2000) {
      traced = performance.now();
      log(`    ${name}: RSS ${(rss(pidOs) / 1e6).toFixed(0)} MB at ${((traced - t) / 1000).toFixed(0)} s`);
    }
    const e = (await api.call('GET', `/replication/executions/${ex}`)).json();
    if (e.status !== 'InProgress') {
      if (e.status !== 'Succeed') throw new Error(`execution ${ex}: ${JSON.stringify(e)}`);
      return { s: (performance.now() - t) / 1000, peakRss: Math.max(peak, 0), startRss, tasks: e.total };
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

export async function replicationBench(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-repl-bench-'));
  const berths: Berth[] = [];
  const regs: DockerRegistry[] = [];
  try {
    log(`generating a ${(BIG / MiB).toFixed(0)} MiB layer`);
    ociLayout(join(tmp, 'big'), BIG);
    let src = await startBerth({ env });
    berths.push(src);
    const [dstRepl, dstSkopeo] = [await startBerth({ env }), await startBerth({ env })];
    berths.push(dstRepl, dstSkopeo);
    const [drRepl, drSkopeo] = [await startDockerRegistry(), await startDockerRegistry()];
    regs.push(drRepl, drSkopeo);
    const api = new ApiClient(src.url, 'admin', src.adminPassword);
    await api.createProject('lib', false);
    const creds = `admin:${src.adminPassword}`;
    const host = (u: string) => new URL(u).host;

    log('seeding the source: the big image (skopeo) and the small artifacts');
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${join(tmp, 'big')}:1`, `docker://${host(src.url)}/lib/big:1`], join(tmp, 'home-seed'));
    const reg = new RegistryClient({ baseUrl: src.url, username: 'admin', password: src.adminPassword });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < SMALL; i = next++) {
          const repo = `lib/small-${i % REPOS}`;
          const layer = Buffer.alloc(4096, i % 251);
          layer.writeUInt32BE(i, 0);
          const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: i, rootfs: { type: 'layers', diff_ids: [] } }));
          const l = await reg.pushBlob(repo, layer);
          const c = await reg.pushBlob(repo, config);
          await reg.pushManifest(repo, `t${i}`, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size }] }), 'application/vnd.oci.image.manifest.v1+json');
        }
      }),
    );
    const epBerth = Number(
      (await api.call('POST', '/registries', { name: 'berth', type: 'harbor', url: dstRepl.url, credential: { type: 'basic', access_key: 'admin', access_secret: dstRepl.adminPassword } })).headers.get('location')!.split('/').pop(),
    );
    const epDr = Number((await api.call('POST', '/registries', { name: 'dr', type: 'docker-registry', url: drRepl.url })).headers.get('location')!.split('/').pop());
    const rows: { what: string; berth: number; skopeo: number; peakRss: number; tasks: number }[] = [];
    const sk = (from: string, to: string, toCreds: string[], home: string, sync = false) =>
      skopeo(
        sync
          ? ['sync', '--all', '--src', 'docker', '--dest', 'docker', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, ...toCreds, from, to]
          : ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, ...toCreds, from, to],
        join(tmp, home),
      );
    // Each replication starts on a freshly started source (same data): its peak RSS is the replication's, not
    // what the seeding pushes and skopeo's reads left behind (~60 MB that glibc and V8 keep after a 1 GiB upload).
    const fresh = async (b: Berth): Promise<Berth> => {
      await b.stop({ keepData: true });
      const n = await b.restart();
      berths[berths.indexOf(b)] = n;
      await new Promise((res) => setTimeout(res, 1000));
      return n;
    };
    const toBerthCreds = ['--dest-creds', `admin:${dstSkopeo.adminPassword}`];
    await new ApiClient(dstSkopeo.url, 'admin', dstSkopeo.adminPassword).createProject('lib', false);

    for (const [label, ep, skDest, skCreds] of [
      ['Berth → Berth', epBerth, host(dstSkopeo.url), toBerthCreds],
      ['Berth → docker-registry', epDr, host(drSkopeo.url), [] as string[]],
    ] as const) {
      log(`${label}: 1 GiB image`);
      src = await fresh(src);
      const r1 = await replicate(src, api, `big-${ep}`, ep, 'lib/big');
      const s1 = await sk(`docker://${host(src.url)}/lib/big:1`, `docker://${skDest}/lib/big:1`, [...skCreds], `home-big-${ep}`);
      rows.push({ what: `${label}: ${(BIG / MiB).toFixed(0)} MiB image`, berth: r1.s, skopeo: s1, peakRss: r1.peakRss, tasks: r1.tasks });
      log(`  Berth ${r1.s.toFixed(1)} s (peak RSS ${(r1.peakRss / 1e6).toFixed(0)} MB, ${(r1.startRss / 1e6).toFixed(0)} MB at start), skopeo ${s1.toFixed(1)} s`);
      log(`${label}: ${SMALL} small artifacts`);
      src = await fresh(src);
      const r2 = await replicate(src, api, `small-${ep}`, ep, 'lib/small-*');
      let s2 = 0;
      for (let i = 0; i < REPOS; i++) s2 += await sk(`${host(src.url)}/lib/small-${i}`, `${skDest}/lib`, [...skCreds], `home-small-${ep}-${i}`, true);
      rows.push({ what: `${label}: ${SMALL} small artifacts`, berth: r2.s, skopeo: s2, peakRss: r2.peakRss, tasks: r2.tasks });
      log(`  Berth ${r2.s.toFixed(1)} s (peak RSS ${(r2.peakRss / 1e6).toFixed(0)} MB, ${(r2.startRss / 1e6).toFixed(0)} MB at start, ${r2.tasks} tasks), skopeo sync ${s2.toFixed(1)} s`);
    }
    const vmhwm = hwm(src.process.pid!);
    const lines = [
      '',
      `replication (${new Date().toISOString()}; skopeo ${spawnSync('skopeo', ['--version'], { encoding: 'utf8' }).stdout.trim()})`,
      'scenario                                         Berth s   skopeo s   speed ×   peak RSS MB (goal < 250)',
      ...rows.map((r) => `${r.what.padEnd(48)} ${r.berth.toFixed(1).padStart(7)}   ${r.skopeo.toFixed(1).padStart(8)}   ${(r.skopeo / r.berth).toFixed(2).padStart(7)}   ${(r.peakRss / 1e6).toFixed(0).padStart(6)} ${r.peakRss < 250e6 ? 'PASS' : 'FAIL'}`),
      `source Berth VmHWM over the whole run (seeding included): ${(vmhwm / 1e6).toFixed(0)} MB`,
      'speed × = skopeo time / Berth time (goal ≥ 1); skopeo copies the small artifacts with `sync --all`, one process per repository.',
    ];
    console.log(lines.join('\n'));
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'replication.json'), JSON.stringify({ rows, vmhwm, bigBytes: BIG, small: SMALL }, null, 2) + '\n');
  } finally {
    for (const b of berths) await b.stop().catch(() => {});
    for (const r of regs) await r.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await replicationBench();
