// Many replicas: 3 Berth processes on one PostgreSQL database and one S3 bucket behind nginx (Debian's, run as a
// child with a generated configuration). Under a mixed load (8 pushers, 16 pullers, 2 API writers) one replica is
// kill -9'ed and restarted. Checked: clients that retry lose no acknowledged write, every pushed image pulls
// byte-for-byte, upload sessions begun on the dead replica finish through the others, a GC claimed by a replica
// that dies mid-run is finished by a live one, and cache invalidations (a setting, a project's visibility, a
// deleted user) reach another replica within a second. The replicas also get the variables Kubernetes injects for
// a Service named "berth" (BERTH_PORT=tcp://…), which must not stop them.
//
// Needs PostgreSQL and S3: it runs in the PostgreSQL + S3 phase of scripts/test.sh and is reported skipped elsewhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, testDatabase, testStorage, ADMIN_PASSWORD, type Berth } from '../helpers/berth.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/pg.ts';
import { freePort, sharedS3 } from '../helpers/s3.ts';
import { MediaTypes, RegistryClient, type PushMethod } from '../helpers/registry-client.ts';

const NGINX = '/usr/sbin/nginx';
const ready = testDatabase() === 'postgres' && testStorage() === 's3';
const SKIP = !ready
  ? 'needs PostgreSQL + S3: run with BERTH_TEST_DATABASE=postgres BERTH_TEST_STORAGE=s3 (the third phase of scripts/test.sh)'
  : !existsSync(NGINX)
    ? `${NGINX} is missing: run bash scripts/ci-deps.sh (apt package nginx)`
    : false;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const ADMIN = basic('admin', ADMIN_PASSWORD);
// What Kubernetes injects into every pod of the namespace for a Service named "berth".
const K8S_ENV = {
  BERTH_PORT: 'tcp://10.0.0.1:80',
  BERTH_PORT_80_TCP: 'tcp://10.0.0.1:80',
  BERTH_PORT_80_TCP_ADDR: '10.0.0.1',
  BERTH_PORT_80_TCP_PORT: '80',
  BERTH_PORT_80_TCP_PROTO: 'tcp',
  BERTH_SERVICE_HOST: '10.0.0.1',
  BERTH_SERVICE_PORT: '80',
};

// ---- nginx ------------------------------------------------------------------------------------------------------

interface Nginx {
  url: string;
  dir: string;
  stop(): Promise<void>;
  /** Access log lines: `<status>|<upstream_addr>|<upstream_status>|<method>` (a retried request lists every replica tried). */
  log(): string[];
}

async function startNginx(upstreams: number[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  const port = await freePort();
  const conf = `
daemon off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  log_format ha '$status|$upstream_addr|$upstream_status|$request_method';
  access_log ${dir}/access.log ha;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream berth {
    # A replica that refused a connection is left alone for 2 s, then tried again (it may be back).
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    # Blobs of any size, streamed to the replica as they arrive (Berth reads /v2 bodies as streams).
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    # Berth derives upload Locations and the token realm from Host.
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    # Idempotent requests (GET, HEAD, PUT, DELETE… never POST/PATCH: nginx does not retry non-idempotent ones
    # unless told) move to the next replica when one is down or draining (503 on SIGTERM).
    proxy_next_upstream error timeout http_502 http_503;
    proxy_next_upstream_tries 3;
    proxy_connect_timeout 2s;
    proxy_read_timeout 300s;
    proxy_send_timeout 300s;
    # For this test's figures only: which replica answered.
    add_header X-Upstream $upstream_addr always;
    location / { proxy_pass http://berth; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${out}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    try {
      const r = await fetch(`${url}/api/v2.0/ping`);
      await r.body?.cancel();
      break;
    } catch {
      if (i > 100) throw new Error(`nginx did not listen: ${out}`);
      await sleep(100);
    }
  }
  return {
    url,
    dir,
    log: () => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- clients that retry ----------------------------------------------------------------------------------------

const figures = { attempts: 0, retries: 0, errorsSeen: 0, failedOps: 0, lastErrorAt: 0, errorKinds: new Map<string, number>() };

/** Transport errors and the gateway/draining statuses are what a client retries; anything else is a bug here. */
const transient = (msg: string) => /fetch failed|ECONNRESET|ECONNREFUSED|socket|other side closed|terminated|\b50[234]\b/.test(msg);

async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    figures.attempts++;
    try {
      return await fn();
    } catch (e) {
      const msg = String((e as Error)?.message ?? e) + ' ' + String((e as { cause?: Error })?.cause?.message ?? '');
      figures.errorsSeen++;
      figures.lastErrorAt = Date.now();
      const kind = transient(msg) ? 'transient' : `unexpected: ${what}: ${msg.slice(0, 300)}`;
      figures.errorKinds.set(kind, (figures.errorKinds.get(kind) ?? 0) + 1);
      if (attempt >= 40) {
        figures.failedOps++;
        throw e;
      }
      figures.retries++;
      await sleep(250);
    }
  }
}

interface Pushed {
  repo: string;
  tag: string;
  manifest: Buffer;
  digest: string;
  blobs: { digest: string; bytes: Buffer }[];
}

const METHODS: PushMethod[] = ['monolithic', 'post-put', 'stream', 'chunked'];

/** One image: a config and two layers (each pushed with a client pattern), then the manifest. Throws on any miss. */
async function pushOne(c: RegistryClient, repo: string, tag: string, n: number): Promise<Pushed> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(8).toString('hex') }));
  const layers = [randomBytes(32 * 1024 + (n % 7) * 8192), randomBytes(96 * 1024)];
  const blobs = [config, ...layers].map((bytes) => ({ digest: sha(bytes), bytes }));
  for (const [i, b] of blobs.entries()) await c.pushBlob(repo, b.bytes, { method: METHODS[(n + i) % METHODS.length], chunkSize: 40 * 1024 });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.OciManifest,
      config: { mediaType: MediaTypes.OciConfig, digest: blobs[0].digest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: MediaTypes.OciLayer, digest: blobs[i + 1].digest, size: l.length })),
    }),
  );
  const r = await c.putManifest(repo, tag, manifest, MediaTypes.OciManifest);
  if (r.status !== 201) throw new Error(`manifest PUT ${r.status}: ${r.text().slice(0, 200)}`);
  return { repo, tag, manifest, digest: sha(manifest), blobs };
}

/** Pulls an image and compares every byte with what was pushed. Throws on any difference or miss. */
async function pullOne(c: RegistryClient, img: Pushed): Promise<void> {
  const m = await c.getManifest(img.repo, img.tag);
  if (m.status !== 200) throw new Error(`manifest GET ${img.repo}:${img.tag} ${m.status}`);
  if (!m.body.equals(img.manifest)) throw new Error(`unexpected: manifest ${img.repo}:${img.tag} differs`);
  for (const b of img.blobs) {
    const r = await c.getBlob(img.repo, b.digest);
    if (r.status !== 200) throw new Error(`blob GET ${b.digest} ${r.status}`);
    if (!r.body.equals(b.bytes)) throw new Error(`unexpected: blob ${b.digest} of ${img.repo} differs`);
  }
}

async function api(base: string, method: string, path: string, body?: unknown, auth = ADMIN): Promise<Response> {
  return fetch(`${base}/api/v2.0${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Polls `probe` on another replica until it holds; returns the milliseconds since `t0`. */
async function propagation(t0: number, probe: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await probe()) return Date.now() - t0;
    if (Date.now() - t0 > 10_000) throw new Error('not propagated in 10 s');
    await sleep(10);
  }
}

// ---- the test -------------------------------------------------------------------------------------------------

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('3 replicas on PostgreSQL + S3 behind nginx: kill -9 one under load, nothing acknowledged is lost', { skip: SKIP, timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const { name: pgDatabase } = await createTestDatabase('berth_ha');
  cleanups.push(() => dropTestDatabase(pgDatabase));
  const s3Bucket = await (await sharedS3()).createBucket('berth-ha');
  const env = {
    ...K8S_ENV,
    // Behind nginx every client has nginx's address.
    BERTH_HTTP_MAX_CONNECTIONS_PER_CLIENT: '0',
    // A dead replica's job is re-claimed 3 s after its last lease renewal.
    BERTH_JOBSERVICE_TASK_LEASE: '3',
    BERTH_REGISTRY_GC_GRACE: '0',
    BERTH_DATABASE_POSTGRES_MAX_CONNECTIONS: '8',
  };
  const common = { database: 'postgres' as const, storage: 's3' as const, pgDatabase, s3Bucket };
  const replicas: Berth[] = [];
  // The first creates the schema; the others start together on it. Replica 0 is the victim: it also crashes itself
  // (SIGKILL) when it runs GC, for the job part.
  replicas.push(await startBerth({ ...common, env: { ...env, BERTH_TEST_CRASH_AT: 'gc-after-mark' } }));
  replicas.push(...(await Promise.all([startBerth({ ...common, env }), startBerth({ ...common, env })])));
  for (const r of replicas) assert.doesNotMatch(r.output(), /BERTH_PORT\b.*(invalid|error)/i, 'Kubernetes variables are no problem');
  cleanups.push(async () => {
    for (const r of replicas) await r.stop({ keepData: true }).catch(() => {});
    for (const r of replicas) rmSync(r.dataDir, { recursive: true, force: true });
  });
  const nginx = await startNginx(replicas.map((r) => r.port));
  cleanups.push(() => nginx.stop());
  const lb = nginx.url;
  const client = new RegistryClient({ baseUrl: lb, username: 'admin', password: ADMIN_PASSWORD });
  assert.equal((await api(lb, 'POST', '/projects', { project_name: 'load', metadata: { public: 'false' } })).status, 201);

  // Upload sessions begun on the victim itself (not through nginx): one chunk stored, the rest comes later.
  const victim = replicas[0];
  const onVictim = new RegistryClient({ baseUrl: victim.url, username: 'admin', password: ADMIN_PASSWORD });
  const halfDone: { location: string; bytes: Buffer }[] = [];
  for (let i = 0; i < 3; i++) {
    const bytes = randomBytes(300 * 1024 + i);
    const loc = await onVictim.openSession('load/resumed');
    const p = await onVictim.request('PATCH', loc.toString(), { body: bytes.subarray(0, 100 * 1024), headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${100 * 1024 - 1}` } });
    assert.equal(p.status, 202, p.toString());
    halfDone.push({ location: new URL(p.header('location')!, victim.url).pathname + new URL(p.header('location')!, victim.url).search, bytes });
  }

  // ---- the load
  const pushed: Pushed[] = [];
  const projectsAcked: string[] = [];
  let stop = false;
  const pushers = Array.from({ length: 8 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      const img = await retrying('push', () => pushOne(client, `load/p${w}`, `t${n}`, n));
      pushed.push(img);
    }
  });
  const pullers = Array.from({ length: 16 }, async () => {
    let pulls = 0;
    while (!stop) {
      if (!pushed.length) {
        await sleep(50);
        continue;
      }
      const img = pushed[Math.floor(Math.random() * pushed.length)];
      await retrying('pull', () => pullOne(client, img));
      pulls++;
    }
    return pulls;
  });
  const writers = Array.from({ length: 2 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      const name = `ha-w${w}-${n}`;
      let first = true;
      await retrying('project create', async () => {
        const r = await api(lb, 'POST', '/projects', { project_name: name, metadata: { public: 'true' } });
        await r.body?.cancel();
        // A retry after an unanswered create finds it there: written, just not acknowledged the first time.
        if (r.status === 201 || (!first && r.status === 409)) return;
        first = false;
        throw new Error(`project create ${r.status}`);
      });
      projectsAcked.push(name);
      await sleep(100);
    }
  });

  await sleep(6_000);
  const beforeKill = pushed.length;
  const killedAt = Date.now();
  await victim.kill9();
  // The half-done sessions continue through nginx (on the live replicas): the session row is in PostgreSQL and the
  // part on S3.
  for (const h of halfDone) {
    const rest = h.bytes.subarray(100 * 1024);
    const p = await client.request('PATCH', lb + h.location, { body: rest, headers: { 'content-type': 'application/octet-stream', 'content-range': `${100 * 1024}-${h.bytes.length - 1}` } });
    assert.equal(p.status, 202, `PATCH on a live replica of a session begun on the dead one: ${p}`);
    assert.ok(!p.header('x-upstream')!.endsWith(`:${victim.port}`), `answered by a live replica (${p.header('x-upstream')})`);
    assert.equal(p.header('range'), `0-${h.bytes.length - 1}`);
    const done = await client.request('PUT', RegistryClient.withQuery(new URL(p.header('location')!, lb), { digest: sha(h.bytes) }));
    assert.equal(done.status, 201, `PUT: ${done}`);
    const got = await client.getBlob('load/resumed', sha(h.bytes));
    assert.ok(got.status === 200 && got.body.equals(h.bytes), 'the resumed blob reads back byte-for-byte');
  }
  await sleep(4_000);
  const restartAt = Date.now();
  replicas[0] = await victim.restart();
  const restartMs = Date.now() - restartAt;
  await sleep(5_000);
  stop = true;
  const [, pulls] = await Promise.all([Promise.all(pushers), Promise.all(pullers), Promise.all(writers)]);
  const totalPulls = pulls.reduce((a, b) => a + b, 0);

  // ---- nothing acknowledged is lost: every image pulls byte-for-byte, every project is there
  for (const img of pushed) await retrying('final pull', () => pullOne(client, img));
  for (const name of projectsAcked) {
    const r = await api(lb, 'HEAD', `/projects?project_name=${name}`);
    assert.equal(r.status, 200, `project ${name}`);
  }
  const unexpected = [...figures.errorKinds].filter(([k]) => k !== 'transient');
  assert.deepEqual(unexpected, [], 'no error other than a dead or draining replica');
  assert.equal(figures.failedOps, 0);
  assert.ok(pushed.length > beforeKill, 'pushes went on after the kill');

  // ---- figures
  const lines = nginx.log();
  const byReplica = new Map<string, number>();
  let lbRetries = 0;
  for (const l of lines) {
    const addr = l.split('|')[1] ?? '-';
    if (addr.includes(',')) lbRetries++;
    const last = addr.split(',').pop()!.trim();
    byReplica.set(last, (byReplica.get(last) ?? 0) + 1);
  }
  const recoverMs = figures.lastErrorAt > killedAt ? figures.lastErrorAt - killedAt : 0;
  const report = [
    `requests through nginx: ${lines.length} (${[...byReplica].map(([a, n]) => `${a}: ${n}`).join(', ')})`,
    `nginx moved ${lbRetries} requests to another replica; 5xx answered to clients: ${lines.filter((l) => l.startsWith('5')).length}`,
    `images pushed: ${pushed.length} (${beforeKill} before the kill), pulls verified: ${totalPulls}, projects created: ${projectsAcked.length}`,
    `client attempts: ${figures.attempts}, errors seen by clients: ${figures.errorsSeen}, client retries: ${figures.retries}, failed operations: ${figures.failedOps}`,
    `recovery: last client error ${recoverMs} ms after the kill; the killed replica was back (listening) ${restartMs} ms after its restart`,
  ];

  // ---- cache invalidation across replicas (A writes, B must answer accordingly within a second)
  const [A, B] = [replicas[1], replicas[2]];
  const probeWrite = async () => {
    const r = await api(B.url, 'POST', '/projects', {});
    await r.body?.cancel();
    return r.status;
  };
  assert.equal(await probeWrite(), 400, 'B accepts writes (the empty body is refused on its own)');
  let t = Date.now();
  assert.equal((await api(A.url, 'PUT', '/configurations', { read_only: true })).status, 200);
  const readOnlyMs = await propagation(t, async () => (await probeWrite()) === 403);
  t = Date.now();
  assert.equal((await api(A.url, 'PUT', '/configurations', { read_only: false })).status, 200);
  const writableMs = await propagation(t, async () => (await probeWrite()) === 400);
  // A public project turned private: anonymous callers on B stop seeing it.
  const anonSees = async () => {
    const r = await api(B.url, 'GET', '/projects/ha-w0-0', undefined, '');
    await r.body?.cancel();
    return r.status === 200;
  };
  assert.ok(await anonSees());
  t = Date.now();
  assert.equal((await api(A.url, 'PUT', '/projects/ha-w0-0', { metadata: { public: 'false' } })).status, 200);
  const privateMs = await propagation(t, async () => !(await anonSees()));
  // A deleted user's Basic login (cached on B) stops working on B.
  assert.equal((await api(A.url, 'POST', '/users', { username: 'leaver', email: 'leaver@example.com', realname: 'L', password: 'Leaver-Pass-1' })).status, 201);
  const leaver = basic('leaver', 'Leaver-Pass-1');
  const leaverOk = async () => {
    const r = await api(B.url, 'GET', '/users/current', undefined, leaver);
    await r.body?.cancel();
    return r.status === 200;
  };
  assert.ok(await leaverOk());
  const id = ((await (await api(A.url, 'GET', '/users/search?username=leaver')).json()) as { user_id: number }[])[0].user_id;
  t = Date.now();
  assert.equal((await api(A.url, 'DELETE', `/users/${id}`)).status, 200);
  const deletedMs = await propagation(t, async () => !(await leaverOk()));
  report.push(`cache invalidation A → B: read_only on ${readOnlyMs} ms, off ${writableMs} ms; project private ${privateMs} ms; user deleted ${deletedMs} ms`);
  for (const [what, ms] of [['read_only on', readOnlyMs], ['read_only off', writableMs], ['project private', privateMs], ['user deleted', deletedMs]] as const)
    assert.ok(ms < 1000, `${what} reached replica B in ${ms} ms`);

  // ---- a job claimed by a replica that dies is finished by a live one. Garbage: an image whose tag is deleted.
  const garbage = await pushOne(client, 'load/garbage', 'gone', 1);
  assert.equal((await client.request('DELETE', `/v2/load/garbage/manifests/${garbage.digest}`)).status, 202);
  // Only the victim may claim the run: the others are paused (SIGSTOP) until it has died in the middle of it.
  const crasher = replicas[0];
  for (const r of [A, B]) r.process.kill('SIGSTOP');
  let gcId = 0;
  try {
    const g = await api(crasher.url, 'POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { delete_untagged: true } });
    assert.equal(g.status, 201);
    gcId = Number((g.headers.get('location') ?? '').split('/').pop());
    await Promise.race([new Promise((r) => crasher.process.once('exit', r)), sleep(30_000).then(() => assert.fail(`the victim did not run GC:\n${crasher.output()}`))]);
    assert.equal(crasher.process.signalCode, 'SIGKILL', 'died in the middle of GC, as a kill -9 would');
  } finally {
    for (const r of [A, B]) r.process.kill('SIGCONT');
  }
  const gcStart = Date.now();
  let gc: { job_status: string } = { job_status: 'Pending' };
  while (['Pending', 'Running'].includes(gc.job_status)) {
    if (Date.now() - gcStart > 60_000) assert.fail(`GC ${gcId} still ${gc.job_status} a minute after its worker died`);
    await sleep(200);
    gc = (await (await api(lb, 'GET', `/system/gc/${gcId}`)).json()) as { job_status: string };
  }
  assert.equal(gc.job_status, 'Success', JSON.stringify(gc));
  for (const b of garbage.blobs) assert.equal((await client.headBlob('load/garbage', b.digest)).status, 404, 'GC finished its work');
  // Everything else still pulls.
  for (const img of pushed.slice(-20)) await pullOne(client, img);
  report.push(`GC ${gcId}: its worker died mid-run, a live replica finished it ${Date.now() - gcStart} ms later; whole test ${Date.now() - t0} ms`);
  process.stdout.write(report.map((l) => `# ha: ${l}\n`).join(''));
});
