// `npm run bench`: Berth next to Debian's docker-registry (CNCF distribution 2.8.2) on loopback.
//
// Both servers run side by side on 127.0.0.1 with fresh temporary data, and one client (this process) drives
// one scenario at a time: blob push/pull throughput (1 × 1 GiB, 100 × 1 MiB), manifest GET and blob HEAD
// request rates with autocannon, and server RSS when idle and during 20 concurrent 256 MiB uploads. The
// `hooks` scenario is Berth against itself: 100 × 1 MiB images pushed into a project with 10 enabled webhook
// policies (to a local receiver answering 200) and into one with none, in the same run.
// Prints one table with the targets, and writes bench/results/latest.json (git-ignored).
//
// BENCH_ONLY=s3 runs only the S3 comparison (Berth+S3, Berth+fs, Distribution v3 on S3; see s3Scenario).
// Environment: BENCH_ONLY=push,pull,small,rps,rss,hooks (subset of scenarios; `replication` runs
// bench/replication.ts, Berth's replication vs skopeo — not in the default set), BENCH_RPS_SECONDS (default 10),
// BENCH_ROUNDS (throughput rounds, default 2, alternating which server goes first; the best round counts),
// BENCH_PROFILE=1 (run Berth with --cpu-prof into bench/results/prof), BENCH_STRICT=1 (exit 1 on a FAIL).
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, createReadStream } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { s3Env, startS3, type S3Server } from '../test/helpers/s3.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');
const MB = 1e6;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const REPO = 'library/bench';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'push,pull,small,rps,rss,hooks').split(',').map((s) => s.trim()));
const RPS_SECONDS = Number(process.env.BENCH_RPS_SECONDS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const PROFILE = process.env.BENCH_PROFILE === '1';
const OVERALL_LIMIT_MS = 9 * 60_000;
const REQUEST_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------- cleanup
const tmpRoot = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const children: ChildProcess[] = [];
function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmpRoot, { recursive: true, force: true });
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    process.exit(130);
  });
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: exceeded ${OVERALL_LIMIT_MS / 60000} minutes, aborting\n`);
  process.exit(1);
}, OVERALL_LIMIT_MS);
watchdog.unref();

const loadStart = loadavg()[0];
let loadEnd = loadStart;
const log = (msg: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
const t0 = performance.now();

// ---------------------------------------------------------------------------------------------- servers
interface Target {
  label: string;
  base: string;
  proc: ChildProcess;
  headers: Record<string, string>;
  agent: http.Agent;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

function track(proc: ChildProcess, name: string): () => string {
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (d) => (out = (out + d).slice(-20000)));
  proc.stderr?.on('data', (d) => (out = (out + d).slice(-20000)));
  proc.once('exit', (code, sig) => {
    if (!stopping) process.stderr.write(`bench: ${name} exited unexpectedly (${code ?? sig}):\n${out}\n`);
  });
  return () => out;
}
let stopping = false;

async function waitReady(base: string, ok: (status: number) => boolean, output: () => string, name: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await request({ base, headers: {}, agent: new http.Agent() }, 'GET', '/v2/');
      if (ok(r.status)) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`${name} did not become ready in 30 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ADMIN_PASSWORD = 'Bench-' + randomBytes(9).toString('base64url');

async function startBerth(opts: { label?: string; env?: Record<string, string> } = {}): Promise<Target> {
  const port = await freePort();
  const dataDir = join(tmpRoot, opts.label ?? 'berth');
  const nodeArgs = [...NODE_FLAGS, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'prof')}`] : [])];
  const proc = spawn(process.execPath, [...nodeArgs, join(ROOT, 'src', 'cli.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'production',
      BERTH_DATA_DIR: dataDir,
      BERTH_HTTP_HOST: '127.0.0.1',
      BERTH_HTTP_PORT: String(port),
      BERTH_LOG_LEVEL: 'warn',
      BERTH_DATABASE_TYPE: 'sqlite',
      BERTH_AUTH_ADMIN_INITIAL_PASSWORD: ADMIN_PASSWORD,
      // The hooks scenario's receiver listens on loopback, which the outbound guard refuses unless allow-listed.
      BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = track(proc, 'Berth');
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, (s) => s === 401, output, 'Berth');
  const token = await berthToken(base, REPO);
  return { label: opts.label ?? 'Berth', base, proc, headers: { Authorization: `Bearer ${token}` }, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }) };
}

/** CNCF Distribution v3 (`.tools/bin/registry`) with its s3 driver on `bucket`. */
async function startDistributionS3(s3: S3Server, bucket: string): Promise<Target> {
  const port = await freePort();
  const dir = join(tmpRoot, 'distribution-s3');
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, 'config.yml');
  writeFileSync(
    cfg,
    `version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  s3: {accesskey: ${s3.accessKey}, secretkey: ${s3.secretKey}, region: ${s3.region}, regionendpoint: "${s3.endpoint}", bucket: ${bucket}, forcepathstyle: true, secure: false, chunksize: 10485760}
  delete: {enabled: true}
  redirect: {disable: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: 127.0.0.1:${port}
`,
  );
  const proc = spawn(join(ROOT, '.tools', 'bin', 'registry'), ['serve', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc, 'distribution-s3');
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, (s) => s === 200, output, 'distribution-s3');
  return { label: 'Distribution+S3', base, proc, headers: {}, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }) };
}

/**
 * BENCH_ONLY=s3: push/pull of 1 GiB and of 100 × 1 MiB on Berth+S3, Berth+filesystem and Distribution v3 with its
 * s3 driver, the two S3 ones on the same Versity Gateway (posix backend on this machine's disk), one run.
 */
async function s3Scenario(): Promise<void> {
  const s3 = await startS3();
  const targets: Target[] = [];
  try {
    const berthBucket = await s3.createBucket('bench-berth');
    const distBucket = await s3.createBucket('bench-dist');
    targets.push(await startBerth({ label: 'Berth+S3', env: s3Env(s3, berthBucket) }));
    targets.push(await startBerth({ label: 'Berth+fs' }));
    targets.push(await startDistributionS3(s3, distBucket));
    const rows: Record<string, Record<string, string>> = {};
    for (let r = 0; r < ROUNDS; r++) {
      const path = join(tmpRoot, `s3-big-${r}.bin`);
      log(`generating 1 GiB random blob ${r + 1}/${ROUNDS}`);
      const digest = generateFile(path, GiB, `s3-big-${r}`);
      const next = keystream(`s3-small-${r}`);
      const small = Array.from({ length: 100 }, () => {
        const data = next(MiB);
        return { data, digest: sha256(data) };
      });
      for (const t of r % 2 ? [...targets].reverse() : targets) {
        const row = (rows[t.label] ??= {});
        const keep = (k: string, bytes: number, m: { s: number }) => {
          const v = bytes / MB / m.s;
          if (!row[k] || v > Number(row[k])) row[k] = v.toFixed(1);
          log(`${t.label}: ${k} ${v.toFixed(1)} MB/s (${m.s.toFixed(2)} s)`);
        };
        settle();
        keep('push1GiB', GiB, await timed(t, () => pushBlob(t, () => createReadStream(path, { highWaterMark: MiB }), GiB, digest)));
        settle();
        keep('pull1GiB', GiB, await timed(t, () => pullBlob(t, digest, GiB)));
        settle();
        keep('push100x1MiB', 100 * MiB, await timed(t, async () => {
          for (const b of small) await pushBlob(t, b.data, b.data.length, b.digest);
        }));
        keep('pull100x1MiB', 100 * MiB, await timed(t, async () => {
          for (const b of small) await pullBlob(t, b.digest, b.data.length);
        }));
      }
      rmSync(path, { force: true });
    }
    const keys = ['push1GiB', 'pull1GiB', 'push100x1MiB', 'pull100x1MiB'];
    const table = [`| target | ${keys.map((k) => `${k} MB/s`).join(' | ')} |`, `| --- |${keys.map(() => ' --- |').join('')}`];
    for (const [label, row] of Object.entries(rows)) table.push(`| ${label} | ${keys.map((k) => row[k] ?? '-').join(' | ')} |`);
    process.stdout.write(table.join('\n') + '\n');
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 's3.json'), JSON.stringify({ rounds: ROUNDS, results: rows }, null, 2) + '\n');
  } finally {
    await stopAll(targets);
    await s3.remove();
  }
}

const BASIC = () => 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');

/** A Bearer token for one repository, as docker/podman would obtain it. */
async function berthToken(base: string, repo: string): Promise<string> {
  const tr = await request(
    { base, headers: { Authorization: BASIC() }, agent: new http.Agent() },
    'GET',
    `/service/token?service=harbor-registry&scope=${encodeURIComponent(`repository:${repo}:pull,push`)}`,
  );
  if (tr.status !== 200) throw new Error(`token request failed: ${tr.status} ${tr.body}`);
  return JSON.parse(tr.body.toString()).token as string;
}

async function startPeer(): Promise<Target> {
  const port = await freePort();
  const dir = join(tmpRoot, 'peer');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const cfg = join(dir, 'config.yml');
  // Same settings as the feasibility recipe, with request logging off (Berth runs at log level warn too).
  writeFileSync(
    cfg,
    `version: 0.1
log: {level: warn, accesslog: {disabled: true}, fields: {service: registry}}
storage:
  filesystem: {rootdirectory: ${join(dir, 'data')}}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: 127.0.0.1:${port}
  headers: {X-Content-Type-Options: [nosniff]}
`,
  );
  const proc = spawn('docker-registry', ['serve', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc, 'docker-registry');
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, (s) => s === 200, output, 'docker-registry');
  return { label: 'docker-registry', base, proc, headers: {}, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }) };
}

async function stopAll(targets: Target[]): Promise<void> {
  stopping = true;
  await Promise.all(
    targets.map(async (t) => {
      t.agent.destroy();
      if (t.proc.exitCode !== null || t.proc.signalCode !== null) return;
      const exited = new Promise((r) => t.proc.once('exit', r));
      t.proc.kill('SIGTERM');
      const k = setTimeout(() => t.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(k);
    }),
  );
}

// ---------------------------------------------------------------------------------------------- HTTP client
interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  bytes: number;
}

/** One request. `body` may be a Buffer or a stream factory; `discard` drops the response body, counting bytes. */
function request(
  t: Pick<Target, 'base' | 'headers' | 'agent'>,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | (() => Readable); discard?: boolean } = {},
): Promise<Resp> {
  return new Promise((res, rej) => {
    const url = new URL(path, t.base);
    const headers: Record<string, string> = { ...t.headers, ...opts.headers };
    if (Buffer.isBuffer(opts.body)) headers['Content-Length'] = String(opts.body.length);
    else if (!opts.body && method !== 'GET' && method !== 'HEAD') headers['Content-Length'] = '0';
    const req = http.request(url, { method, headers, agent: t.agent }, (r) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      r.on('data', (c: Buffer) => {
        bytes += c.length;
        if (!opts.discard) chunks.push(c);
      });
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks), bytes }));
      r.on('error', rej);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no progress for ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', rej);
    if (Buffer.isBuffer(opts.body)) req.end(opts.body);
    else if (opts.body) pipeline(opts.body(), req).catch(rej);
    else req.end();
  });
}

function expect(r: Resp, status: number, what: string): Resp {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.body.toString().slice(0, 500)}`);
  return r;
}

/** POST, one streamed PATCH with the whole blob, PUT ?digest= (what skopeo/podman/containerd do). */
async function pushBlob(t: Target, body: Buffer | (() => Readable), size: number, digest: string, repo = REPO): Promise<void> {
  const start = expect(await request(t, 'POST', `/v2/${repo}/blobs/uploads/`), 202, 'start upload');
  const patch = expect(
    await request(t, 'PATCH', String(start.headers.location), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
    }),
    202,
    'patch upload',
  );
  const put = new URL(String(patch.headers.location), t.base);
  put.searchParams.set('digest', digest);
  expect(await request(t, 'PUT', put.pathname + put.search), 201, 'finish upload');
}

/** GET streamed to nowhere (no client-side hashing, for either server); checks the length and digest header. */
async function pullBlob(t: Target, digest: string, size: number): Promise<void> {
  const r = expect(await request(t, 'GET', `/v2/${REPO}/blobs/${digest}`, { discard: true }), 200, 'pull blob');
  if (r.bytes !== size) throw new Error(`pull ${digest}: got ${r.bytes} bytes, expected ${size}`);
}

// ---------------------------------------------------------------------------------------------- data
/** Incompressible pseudo-random bytes, fast (AES-CTR keystream). */
function keystream(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function generateFile(path: string, size: number, seed: string): string {
  const next = keystream(seed);
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const chunk = next(Math.min(8 * MiB, size - done));
      h.update(chunk);
      writeSync(fd, chunk);
      done += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return 'sha256:' + h.digest('hex');
}

/**
 * The RSS scenario's uploads: N × size bytes, never held by the client. Every body is `size/chunk - 1` copies
 * of one shared random chunk followed by a unique one, so the digests come from one hash state copied N times.
 */
function concurrentBodies(n: number, size: number, chunk = MiB): { digest: string; body: () => Readable }[] {
  const shared = keystream('shared')(chunk);
  const prefix: Hash = createHash('sha256');
  const copies = size / chunk - 1;
  for (let i = 0; i < copies; i++) prefix.update(shared);
  return Array.from({ length: n }, (_, i) => {
    const tail = keystream(`tail-${i}-${randomBytes(4).toString('hex')}`)(chunk);
    return {
      digest: 'sha256:' + prefix.copy().update(tail).digest('hex'),
      body: () =>
        Readable.from(
          (function* () {
            for (let k = 0; k < copies; k++) yield shared;
            yield tail;
          })(),
          { objectMode: false },
        ),
    };
  });
}

// ---------------------------------------------------------------------------------------------- measurements
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Runs fn while sampling the process's RSS every 50 ms; returns the peak (sampled, or VmHWM after a reset). */
async function peakRss(pid: number, fn: () => Promise<void>): Promise<number> {
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  } catch {
    hwmReset = false;
  }
  let peak = procStatus(pid, 'VmRSS');
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(pid, 'VmRSS'));
    } catch {
      /* the process is gone; the scenario itself reports the failure */
    }
  }, 50);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return hwmReset ? Math.max(peak, procStatus(pid, 'VmHWM')) : peak;
}

/** Flushes dirty pages so one server's writeback does not land in the next measurement. */
function settle(): void {
  spawnSync('sync', { stdio: 'ignore', timeout: 120_000 });
}

/** Wall-clock seconds of fn, and the CPU seconds the server process used meanwhile. */
async function timed(t: Target, fn: () => Promise<void>): Promise<{ s: number; cpu: number }> {
  const cpu0 = cpuSeconds(t.proc.pid!);
  const start = performance.now();
  await fn();
  return { s: (performance.now() - start) / 1000, cpu: cpuSeconds(t.proc.pid!) - cpu0 };
}

interface Rps {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  bad: number;
  /** Server CPU time (user + system) per answered request, in microseconds: independent of the client's speed. */
  cpuUsPerRequest: number;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/**
 * autocannon's HTTP parser (http-parser-js) waits for a HEAD response's Content-Length worth of body; telling
 * the parser to skip the body (what Node's own client does for HEAD) is done by returning true from its
 * on-headers-complete callback, which autocannon assigns right after setupClient runs.
 */
function skipResponseBodies(client: { parser: object }): void {
  const kOnHeadersComplete = 2; // HTTPParser.kOnHeadersComplete in http-parser-js
  let inner: (info: unknown) => unknown = () => undefined;
  Object.defineProperty(client.parser, kOnHeadersComplete, {
    configurable: true,
    get: () => (info: unknown) => {
      inner(info);
      return true;
    },
    set: (fn: (info: unknown) => unknown) => (inner = fn),
  });
}

async function hammer(t: Target, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>, seconds: number): Promise<Rps> {
  const opts = {
    url: t.base + path,
    method,
    connections: 10,
    headers: { ...t.headers, ...headers },
    timeout: 10,
    ...(method === 'HEAD' ? { setupClient: skipResponseBodies } : {}),
  };
  await autocannon({ ...opts, duration: 1 }); // warm-up (JIT, caches, connections)
  const cpu0 = cpuSeconds(t.proc.pid!);
  const r = await autocannon({ ...opts, duration: seconds });
  const cpu = cpuSeconds(t.proc.pid!) - cpu0;
  const ok = r.statusCodeStats['200']?.count ?? 0;
  const total = Object.values(r.statusCodeStats).reduce((n, s) => n + s.count, 0);
  return {
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: total,
    errors: r.errors + r.timeouts,
    bad: total - ok,
    cpuUsPerRequest: total ? (cpu * 1e6) / total : NaN,
  };
}

// ---------------------------------------------------------------------------------------------- scenarios
interface PerTarget {
  idleRssBytes?: number;
  push1GiBMBps?: number;
  pull1GiBMBps?: number;
  push100x1MiBMBps?: number;
  pull100x1MiBMBps?: number;
  /** Server CPU seconds (user + system) in the best round of each throughput scenario. */
  cpuSeconds: Record<string, number>;
  /** MB/s of every round. */
  samples: Record<string, number[]>;
  manifestGet?: Rps;
  blobHead?: Rps;
  peakRssBytes?: number;
  rssScenarioSeconds?: number;
  /** hooks: MB/s of 100 × 1 MiB image pushes into a project without / with 10 webhook policies (best round). */
  hooksOffMBps?: number;
  hooksOnMBps?: number;
  /** hooks: seconds from the first push of the best "with policies" round until the receiver had every delivery. */
  hooksDeliveredSeconds?: number;
}

async function pushImage(t: Target, layer: { digest: string; data: Buffer }, repo = REPO, tag = 'latest', pushLayer = false): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const configDigest = sha256(config);
  if (pushLayer) await pushBlob(t, layer.data, layer.data.length, layer.digest, repo);
  await pushBlob(t, config, config.length, configDigest, repo);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.data.length }],
    }),
  );
  expect(
    await request(t, 'PUT', `/v2/${repo}/manifests/${tag}`, { headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }),
    201,
    'put manifest',
  );
}

// ---------------------------------------------------------------------------------------------- hooks scenario
const HOOK_POLICIES = 10;

/**
 * The webhook receiver: answers 200 to everything and counts the requests. It runs in a process of its own, as a
 * real receiver would be elsewhere: in this one it would take event-loop time from the pushing client.
 */
const HOOK_SINK = `
const http = require('node:http');
let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { received++; res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); });
});
process.on('message', () => process.send(received));
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
`;

async function startHookSink(): Promise<{ url: string; received: () => Promise<number>; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', HOOK_SINK], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((res, rej) => {
    child.once('message', (m) => res((m as { port: number }).port));
    child.once('exit', (code) => rej(new Error(`webhook sink exited (${code})`)));
  });
  const received = () =>
    new Promise<number>((res) => {
      child.once('message', (m) => res(m as number));
      child.send('count');
    });
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** Two projects on Berth, one with HOOK_POLICIES enabled PUSH_ARTIFACT policies to the sink; a Target per repository. */
async function setUpHooks(berth: Target, sinkUrl: string): Promise<{ off: Target & { repo: string }; on: Target & { repo: string } }> {
  const api = (method: string, path: string, body: unknown) =>
    request({ base: berth.base, headers: { Authorization: BASIC(), 'Content-Type': 'application/json' }, agent: berth.agent }, method, `/api/v2.0${path}`, {
      body: Buffer.from(JSON.stringify(body)),
    });
  for (const p of ['bench-hooks-off', 'bench-hooks-on']) expect(await api('POST', '/projects', { project_name: p, metadata: { public: 'false' } }), 201, `create project ${p}`);
  for (let i = 0; i < HOOK_POLICIES; i++)
    expect(
      await api('POST', '/projects/bench-hooks-on/webhook/policies', {
        name: `bench-${i}`,
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [{ type: 'http', address: `${sinkUrl}/hook/${i}` }],
      }),
      201,
      `create webhook policy ${i}`,
    );
  const as = async (repo: string) => ({ ...berth, repo, headers: { Authorization: `Bearer ${await berthToken(berth.base, repo)}` } });
  return { off: await as('bench-hooks-off/app'), on: await as('bench-hooks-on/app') };
}

async function main(): Promise<void> {
  if (ONLY.has('s3')) return s3Scenario();
  mkdirSync(RESULTS, { recursive: true });
  // The replication scenario (bench/replication.ts) starts its own registries; only when asked for by name.
  if (ONLY.has('replication')) {
    await (await import('./replication.ts')).replicationBench();
    ONLY.delete('replication');
    if (!ONLY.size) return;
  }
  const peerVersion = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'docker-registry (version unknown)';
  log(`temp dir ${tmpRoot}`);

  // One 1 GiB file and one set of 100 × 1 MiB blobs per round, so no push ever finds its blob already stored.
  const bigs: { path: string; digest: string }[] = [];
  if (ONLY.has('push') || ONLY.has('pull'))
    for (let r = 0; r < ROUNDS; r++) {
      log(`generating 1 GiB random blob ${r + 1}/${ROUNDS}`);
      const path = join(tmpRoot, `big-${r}.bin`);
      bigs.push({ path, digest: generateFile(path, GiB, `big-${r}`) });
    }
  const smallSet = (r: number) => {
    const next = keystream(`small-${r}-${randomBytes(4).toString('hex')}`);
    return Array.from({ length: 100 }, () => {
      const data = next(MiB);
      return { data, digest: sha256(data) };
    });
  };
  let small = smallSet(0);

  const berth = await startBerth();
  const peer = await startPeer();
  const targets = [berth, peer];
  const res: Record<string, PerTarget> = { Berth: { cpuSeconds: {}, samples: {} }, 'docker-registry': { cpuSeconds: {}, samples: {} } };
  /** Keeps every round's MB/s, and the best one (with its server CPU) as the result. */
  const record = (t: Target, key: 'push1GiB' | 'pull1GiB' | 'push100x1MiB' | 'pull100x1MiB', bytes: number, m: { s: number; cpu: number }) => {
    const r = res[t.label];
    const mbps = bytes / MB / m.s;
    (r.samples[key] ??= []).push(Number(mbps.toFixed(1)));
    const field = `${key}MBps` as const;
    if (r[field] === undefined || mbps > r[field]!) {
      r[field] = mbps;
      r.cpuSeconds[key] = Number(m.cpu.toFixed(2));
    }
    log(`${t.label}: ${key} ${mbps.toFixed(1)} MB/s (${m.s.toFixed(2)} s, server CPU ${m.cpu.toFixed(2)} s)`);
  };
  try {
    await new Promise((r) => setTimeout(r, 1000));
    for (const t of targets) res[t.label].idleRssBytes = procStatus(t.proc.pid!, 'VmRSS');
    log(`idle RSS: Berth ${fmtMB(res.Berth.idleRssBytes)} MB, docker-registry ${fmtMB(res['docker-registry'].idleRssBytes)} MB`);

    // Rounds alternate which server goes first; the best round counts (the host is shared and noisy).
    const order = (r: number) => (r % 2 === 0 ? targets : [...targets].reverse());
    if (ONLY.has('push') || ONLY.has('pull'))
      for (let r = 0; r < ROUNDS; r++) {
        const big = bigs[r];
        for (const t of order(r)) {
          settle();
          record(t, 'push1GiB', GiB, await timed(t, () => pushBlob(t, () => createReadStream(big.path, { highWaterMark: MiB }), GiB, big.digest)));
        }
        settle();
        if (ONLY.has('pull')) for (const t of order(r)) record(t, 'pull1GiB', GiB, await timed(t, () => pullBlob(t, big.digest, GiB)));
      }

    if (ONLY.has('small') || ONLY.has('rps'))
      for (let r = 0; r < (ONLY.has('small') ? ROUNDS : 1); r++) {
        if (r > 0) small = smallSet(r);
        for (const t of order(r)) {
          settle();
          const set = small;
          record(t, 'push100x1MiB', 100 * MiB, await timed(t, async () => {
            for (const b of set) await pushBlob(t, b.data, b.data.length, b.digest);
          }));
        }
        settle();
        for (const t of order(r)) {
          const set = small;
          record(t, 'pull100x1MiB', 100 * MiB, await timed(t, async () => {
            for (const b of set) await pullBlob(t, b.digest, b.data.length);
          }));
        }
      }

    if (ONLY.has('rps')) {
      for (const t of targets) await pushImage(t, small[0]);
      settle();
      const accept = {
        Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      };
      for (const t of targets) {
        const r = await hammer(t, 'GET', `/v2/${REPO}/manifests/latest`, accept, RPS_SECONDS);
        res[t.label].manifestGet = r;
        log(`${t.label}: manifest GET ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUsPerRequest.toFixed(0)} µs server CPU/request (${r.bad} non-200, ${r.errors} errors)`);
      }
      for (const t of targets) {
        const r = await hammer(t, 'HEAD', `/v2/${REPO}/blobs/${small[1].digest}`, {}, RPS_SECONDS);
        res[t.label].blobHead = r;
        log(`${t.label}: blob HEAD ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUsPerRequest.toFixed(0)} µs server CPU/request (${r.bad} non-200, ${r.errors} errors)`);
      }
    }

    if (ONLY.has('hooks')) {
      // Same Berth, same run: image pushes (1 MiB layer + config + manifest, a new tag each) into a project
      // without webhook policies and into one with 10. Each "with" round waits until the receiver has every
      // delivery, so no round's deliveries overlap the next measurement.
      const sink = await startHookSink();
      try {
        const { off, on } = await setUpHooks(berth, sink.url);
        const r = res.Berth;
        for (let round = 0; round < ROUNDS; round++) {
          for (const t of round % 2 === 0 ? [off, on] : [on, off]) {
            const set = smallSet(100 + round * 2 + (t === on ? 1 : 0));
            const key = t === on ? 'hooksOn' : 'hooksOff';
            const before = await sink.received();
            settle();
            const start = performance.now();
            const m = await timed(t, async () => {
              for (const [i, b] of set.entries()) await pushImage(t, b, t.repo, `r${round}-${i}`, true);
            });
            const mbps = (100 * MiB) / MB / m.s;
            (r.samples[key] ??= []).push(Number(mbps.toFixed(1)));
            let note = '';
            if (t === on) {
              const want = before + 100 * HOOK_POLICIES;
              const until = Date.now() + 180_000;
              let got = await sink.received();
              while (got < want && Date.now() < until) {
                await new Promise((res) => setTimeout(res, 50));
                got = await sink.received();
              }
              if (got < want) throw new Error(`hooks: ${got - before} of ${100 * HOOK_POLICIES} deliveries in 180 s`);
              const delivered = (performance.now() - start) / 1000;
              note = `, all ${100 * HOOK_POLICIES} deliveries in ${delivered.toFixed(1)} s`;
              if (r.hooksOnMBps === undefined || mbps > r.hooksOnMBps) (r.hooksOnMBps = mbps), (r.hooksDeliveredSeconds = delivered), (r.cpuSeconds.hooksOn = Number(m.cpu.toFixed(2)));
            } else if (r.hooksOffMBps === undefined || mbps > r.hooksOffMBps) (r.hooksOffMBps = mbps), (r.cpuSeconds.hooksOff = Number(m.cpu.toFixed(2)));
            log(`Berth: push 100 x 1 MiB images, ${t === on ? `${HOOK_POLICIES} webhook policies` : 'no webhook policy'}: ${mbps.toFixed(1)} MB/s (${m.s.toFixed(2)} s, server CPU ${m.cpu.toFixed(2)} s${note})`);
          }
        }
        log(`hooks: with/without = ${((r.hooksOnMBps ?? 0) / (r.hooksOffMBps ?? 1)).toFixed(3)}`);
      } finally {
        await sink.close();
      }
    }

    if (ONLY.has('rss')) {
      for (const t of targets) {
        settle();
        const bodies = concurrentBodies(20, 256 * MiB);
        const started = performance.now();
        const peak = await peakRss(t.proc.pid!, async () => {
          await Promise.all(bodies.map((b) => pushBlob(t, b.body, 256 * MiB, b.digest)));
        });
        res[t.label].peakRssBytes = peak;
        res[t.label].rssScenarioSeconds = (performance.now() - started) / 1000;
        log(`${t.label}: 20 x 256 MiB concurrent uploads in ${res[t.label].rssScenarioSeconds!.toFixed(1)} s, peak RSS ${fmtMB(peak)} MB`);
      }
    }
  } finally {
    await stopAll(targets);
  }

  loadEnd = loadavg()[0];
  const report = buildReport(res, peerVersion);
  process.stdout.write(report.text);
  writeFileSync(
    join(RESULTS, 'latest.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryBytes: totalmem(),
        loadAverage1m: { start: loadStart, end: loadEnd },
        peer: peerVersion,
        scenarios: [...ONLY],
        rpsSeconds: RPS_SECONDS,
        rounds: ROUNDS,
        results: res,
        targets: report.rows,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${join('bench', 'results', 'latest.json')}`);
  if (process.env.BENCH_STRICT === '1' && report.rows.some((r) => r.result === 'FAIL')) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------- report
const fmtMB = (b: number | undefined) => (b === undefined ? '-' : (b / MB).toFixed(1));
const fmt = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

interface Row {
  metric: string;
  berth: string;
  peer: string;
  ratio: string;
  target: string;
  result: string;
}

function buildReport(res: Record<string, PerTarget>, peerVersion: string): { text: string; rows: Row[] } {
  const b = res.Berth;
  const p = res['docker-registry'];
  const rows: Row[] = [];
  const ratioRow = (metric: string, bv: number | undefined, pv: number | undefined, min: number | null, digits = 1, invalid = false) => {
    const ratio = bv !== undefined && pv !== undefined && pv > 0 ? bv / pv : undefined;
    rows.push({
      metric,
      berth: fmt(bv, digits),
      peer: fmt(pv, digits),
      ratio: ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
      target: min === null ? '' : `>= ${min.toFixed(1)}x peer`,
      result: min === null || ratio === undefined ? '' : invalid ? 'ERROR' : ratio >= min ? 'PASS' : 'FAIL',
    });
  };
  const latRow = (metric: string, bv: Rps | undefined, pv: Rps | undefined) =>
    rows.push({
      metric,
      berth: bv ? `${bv.p50} / ${bv.p99}` : '-',
      peer: pv ? `${pv.p50} / ${pv.p99}` : '-',
      ratio: '',
      target: '',
      result: '',
    });
  const cpuRow = (bv: Rps | undefined, pv: Rps | undefined) =>
    rows.push({
      metric: '  server CPU per request (µs)',
      berth: fmt(bv?.cpuUsPerRequest, 0),
      peer: fmt(pv?.cpuUsPerRequest, 0),
      ratio: bv && pv ? `${(pv.cpuUsPerRequest / bv.cpuUsPerRequest).toFixed(2)}x` : '',
      target: '',
      result: '',
    });
  const broken = (r: Rps | undefined) => r !== undefined && (r.bad > 0 || r.errors > 0);
  const cpuSecondsRow = (key: string) => {
    const bv = b.cpuSeconds[key];
    const pv = p.cpuSeconds[key];
    rows.push({
      metric: '  server CPU (s)',
      berth: fmt(bv, 2),
      peer: fmt(pv, 2),
      ratio: bv && pv ? `${(pv / bv).toFixed(2)}x` : '',
      target: '',
      result: '',
    });
  };
  ratioRow('push 1 GiB blob (MB/s)', b.push1GiBMBps, p.push1GiBMBps, 1.0);
  cpuSecondsRow('push1GiB');
  ratioRow('pull 1 GiB blob (MB/s)', b.pull1GiBMBps, p.pull1GiBMBps, 1.0);
  cpuSecondsRow('pull1GiB');
  ratioRow('push 100 x 1 MiB blobs (MB/s)', b.push100x1MiBMBps, p.push100x1MiBMBps, 1.0);
  cpuSecondsRow('push100x1MiB');
  ratioRow('pull 100 x 1 MiB blobs (MB/s)', b.pull100x1MiBMBps, p.pull100x1MiBMBps, 1.0);
  cpuSecondsRow('pull100x1MiB');
  ratioRow('manifest GET by tag (req/s)', b.manifestGet?.rps, p.manifestGet?.rps, 5.0, 0, broken(b.manifestGet) || broken(p.manifestGet));
  latRow('  latency p50 / p99 (ms)', b.manifestGet, p.manifestGet);
  cpuRow(b.manifestGet, p.manifestGet);
  ratioRow('blob HEAD (req/s)', b.blobHead?.rps, p.blobHead?.rps, 5.0, 0, broken(b.blobHead) || broken(p.blobHead));
  latRow('  latency p50 / p99 (ms)', b.blobHead, p.blobHead);
  cpuRow(b.blobHead, p.blobHead);
  if (b.hooksOffMBps !== undefined || b.hooksOnMBps !== undefined) {
    // Berth against itself: the "peer" column is Berth without webhook policies.
    const ratio = b.hooksOnMBps !== undefined && b.hooksOffMBps ? b.hooksOnMBps / b.hooksOffMBps : undefined;
    rows.push({ metric: 'push 100 x 1 MiB images, no webhook policy (MB/s)', berth: fmt(b.hooksOffMBps), peer: '', ratio: '', target: '', result: '' });
    rows.push({
      metric: `  with ${HOOK_POLICIES} webhook policies (MB/s)`,
      berth: fmt(b.hooksOnMBps),
      peer: fmt(b.hooksOffMBps),
      ratio: ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
      target: '>= 0.95x no policy',
      result: ratio === undefined ? '' : ratio >= 0.95 ? 'PASS' : 'FAIL',
    });
    const [co, cn] = [b.cpuSeconds.hooksOff, b.cpuSeconds.hooksOn];
    rows.push({ metric: '  server CPU while pushing (s)', berth: fmt(cn, 2), peer: fmt(co, 2), ratio: co && cn ? `${(co / cn).toFixed(2)}x` : '', target: '', result: '' });
    rows.push({ metric: `  every delivery received (s)`, berth: fmt(b.hooksDeliveredSeconds), peer: '', ratio: '', target: '', result: '' });
  }
  rows.push({ metric: 'idle RSS (MB)', berth: fmtMB(b.idleRssBytes), peer: fmtMB(p.idleRssBytes), ratio: '', target: '', result: '' });
  rows.push({
    metric: 'peak RSS, 20 x 256 MiB uploads (MB)',
    berth: fmtMB(b.peakRssBytes),
    peer: fmtMB(p.peakRssBytes),
    ratio: '',
    target: '< 300 MB',
    result: b.peakRssBytes === undefined ? '' : b.peakRssBytes < 300 * MB ? 'PASS' : 'FAIL',
  });

  const head: Row = { metric: 'metric', berth: 'Berth', peer: 'peer', ratio: 'ratio', target: 'target', result: 'result' };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) =>
    [r.metric.padEnd(w('metric')), r.berth.padStart(w('berth')), r.peer.padStart(w('peer')), r.ratio.padStart(w('ratio')), r.target.padEnd(w('target')), r.result]
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(line(head).length + 6);
  const errors = [b.manifestGet, p.manifestGet, b.blobHead, p.blobHead].filter(broken).length;
  const text = [
    '',
    `Berth vs ${peerVersion} — loopback 127.0.0.1, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
    `load average (1 min) ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end (other work on the host skews every figure)`,
    rule,
    line(head),
    rule,
    ...rows.map(line),
    rule,
    'MB = 10^6 bytes. ratio = Berth/peer for rates, peer/Berth for server CPU (above 1 is better for Berth).',
    'Berth: SQLite, log level warn, Bearer token auth on every request; blobs are fsynced before',
    '  they are acknowledged. peer ("docker-registry", CNCF distribution): filesystem storage, no auth, no',
    '  fsync, access log off — the missing auth and durability both favour the peer. The peer serves blobs',
    '  with sendfile(2); Node copies them through user space (rotating reused buffers).',
    `Push = POST + one streamed PATCH + PUT ?digest=; pull = GET to /dev/null without client-side hashing;`,
    `  best of ${ROUNDS} round(s), alternating which server goes first, fresh blobs each round, sync(1) before pushes.`,
    `Hooks: Berth against itself (peer column = no policy): image = 1 MiB layer + config + manifest under a`,
    `  new tag, pushed one after another; ${HOOK_POLICIES} PUSH_ARTIFACT policies to a loopback receiver answering 200.`,
    `Request rates: autocannon, 10 connections, ${RPS_SECONDS} s after a 1 s warm-up, client on the same host`,
    '  (the client shares the CPUs with the server, so rates are client-bound as well as server-bound).',
    ...(errors ? [`WARNING: ${errors} request-rate run(s) saw non-200 answers or errors (see latest.json).`] : []),
    '',
  ].join('\n');
  return { text, rows };
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
