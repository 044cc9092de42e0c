// Helpers that drive REAL registry clients (docker, podman, buildah, skopeo, ctr, crane,
// oras, regctl, helm) against a registry at `host:port`, for node:test suites.
//
// Everything runs as private instances under a temp dir: a private dockerd, a private
// containerd, podman/buildah/skopeo with their own storage/config/auth file, and a private
// HOME for the Go clients. Every start/create function returns an object with stop(), which
// kills the daemon, unmounts whatever it left under its dir and removes the dir. A process
// 'exit' hook also kills every daemon still alive, so a crashed test never leaks daemons.
//
// Tools come from scripts/ci-deps.sh (apt packages + Go clients in .tools/bin).
// TypeScript is run directly by Node (type stripping): erasable syntax only, node: builtins only.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS_BIN = join(REPO_ROOT, '.tools', 'bin');

export interface Creds {
  username: string;
  password: string;
}

/** A registry as the clients see it: `host` is `host:port` (no scheme). */
export interface RegistryTarget {
  host: string;
  creds?: Creds;
  /** true (default) = plain HTTP; false = TLS. Only plain HTTP is wired up so far. */
  plainHttp?: boolean;
}

// ------------------------------------------------------------------------------------
// process running
// ------------------------------------------------------------------------------------

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
  /** default 120 s */
  timeoutMs?: number;
}

export interface RunResult {
  /** exit code; -1 when killed by a signal or on timeout */
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  timedOut: boolean;
  command: string;
}

export type ToolOptions = RunOptions & { allowFail?: boolean };
/** Runs one client; throws (with its stderr) on a non-zero exit unless allowFail. */
export type Tool = (args: string[], opts?: ToolOptions) => Promise<RunResult>;

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Run a command to completion, capturing output. Never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: mergeEnv(opts.env),
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills grandchildren too
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({
        code: code ?? -1,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        timedOut,
        command,
      });
    });
    child.stdin.on('error', () => {}); // EPIPE when the tool doesn't read stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run() but throws a descriptive error unless the command exits 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw runError(r);
  return r;
}

function runError(r: RunResult): Error {
  const tail = (s: string) => (s.length > 4000 ? '…' + s.slice(-4000) : s);
  return new Error(
    `command failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.command}\n` +
      `--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`,
  );
}

function mergeEnv(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function makeTool(cmd: string, baseEnv: Record<string, string | undefined>, prefix: string[] = []): Tool {
  return async (args, opts = {}) => {
    const r = await run(cmd, [...prefix, ...args], { ...opts, env: { ...baseEnv, ...opts.env } });
    if (r.code !== 0 && !opts.allowFail) throw runError(r);
    return r;
  };
}

/** Path of a Go client built by scripts/ci-deps.sh (crane, oras, regctl, helm). */
export function toolPath(name: string): string {
  const p = join(TOOLS_BIN, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run scripts/ci-deps.sh`);
  return p;
}

/** The docker CLI: $BERTH_DOCKER_CLI, else Debian's /usr/bin/docker (matches its dockerd), else PATH. */
export function dockerCliPath(): string {
  if (process.env.BERTH_DOCKER_CLI) return process.env.BERTH_DOCKER_CLI;
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

// ------------------------------------------------------------------------------------
// temp dirs, ports, daemons, cleanup
// ------------------------------------------------------------------------------------

const OWNER_FILE = '.berth-owner-pid';
let swept = false;

/**
 * A fresh dir under the OS temp dir (kept short: unix socket paths are limited to 107 bytes).
 * It records the owning process id; the first call in a process removes dirs left behind by
 * owners that died without cleanup (SIGKILL), unmounting what they left mounted.
 */
export function makeTempDir(prefix: string): string {
  if (!swept) {
    swept = true;
    sweepStaleTempDirs();
  }
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

function sweepStaleTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('berth-')) continue;
    const dir = join(tmpdir(), name);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours
    }
    if (!pid || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    try {
      removeDir(dir);
    } catch {
      /* best effort */
    }
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Lazily unmount everything mounted at or below dir (deepest first). Synchronous. */
export function unmountUnder(dir: string): void {
  const base = resolve(dir);
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === base || p.startsWith(base + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of [...new Set(points)]) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/** Unmount then delete a temp dir. Synchronous so it can run from the exit hook. */
export function removeDir(dir: string): void {
  unmountUnder(dir);
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

interface Live {
  child?: ChildProcess;
  dir: string;
}
const live = new Set<Live>();
let exitHookInstalled = false;
function track(entry: Live): Live {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    const cleanup = () => {
      for (const e of live) {
        killGroup(e.child?.pid, 'SIGKILL');
        try {
          removeDir(e.dir);
        } catch {
          /* best effort */
        }
      }
      live.clear();
    };
    process.on('exit', cleanup);
    // daemons run in their own process groups, so a terminal ^C does not reach them
    for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
      process.once(sig, () => {
        cleanup();
        process.exit(128 + n);
      });
    }
  }
  live.add(entry);
  return entry;
}

export interface Daemon {
  child: ChildProcess;
  logFile: string;
  exited: () => boolean;
  log: () => string;
  /** SIGTERM, wait up to graceMs, then SIGKILL the whole process group. */
  kill: (graceMs?: number) => Promise<void>;
}

/** Start a long-running process in its own process group, output to logFile. */
export function spawnDaemon(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; logFile: string; cwd?: string },
): Daemon {
  const fd = openSync(opts.logFile, 'a');
  // setpriv --pdeathsig: the daemon gets SIGKILL if this Node process dies without cleanup
  const [file, argv] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]]
    : [cmd, args];
  const child = spawn(file, argv, {
    env: mergeEnv(opts.env),
    cwd: opts.cwd,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  let exited = false;
  const exitPromise = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  child.once('error', () => (exited = true));
  return {
    child,
    logFile: opts.logFile,
    exited: () => exited,
    log: () => {
      try {
        return readFileSync(opts.logFile, 'utf8');
      } catch {
        return '';
      }
    },
    kill: async (graceMs = 15_000) => {
      if (!exited) {
        killGroup(child.pid, 'SIGTERM');
        await raceTimeout(exitPromise, graceMs);
      }
      killGroup(child.pid, 'SIGKILL'); // stragglers in the group (e.g. dockerd's containerd)
      if (!exited) await raceTimeout(exitPromise, 2_000);
    },
  };
}

/** Wait for p, at most ms (the timer is cleared, so it never holds the process open). */
async function raceTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll check() until it returns true; fail early if the daemon dies. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; daemon?: Daemon } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (opts.daemon?.exited()) throw new Error(`${what}: process exited\n${opts.daemon.log().slice(-4000)}`);
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready in time\n${opts.daemon?.log().slice(-4000) ?? ''}`);
    }
    await sleep(100);
  }
}

/** Minimal HTTP GET (TCP url or unix socket), resolving to status/headers/body. */
export function httpGet(
  url: string,
  opts: { socketPath?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', socketPath: opts.socketPath, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

// ------------------------------------------------------------------------------------
// reference registry (Debian's docker-registry = CNCF distribution 2.8)
// ------------------------------------------------------------------------------------

export interface PeerRegistry extends RegistryTarget {
  url: string;
  dir: string;
  daemon: Daemon;
  stop: () => Promise<void>;
}

/**
 * Start Debian's docker-registry on a free loopback port with a temp config.
 * With `users`, it requires HTTP basic auth (htpasswd, bcrypt via apache2-utils).
 */
export async function startDistributionRegistry(opts: { users?: Creds[] } = {}): Promise<PeerRegistry> {
  const dir = makeTempDir('distribution');
  const entry = track({ dir });
  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    let auth = '';
    if (opts.users?.length) {
      const lines: string[] = [];
      for (const u of opts.users) {
        const r = await runOk('htpasswd', ['-Bbn', u.username, u.password]);
        lines.push(r.stdout.trim());
      }
      await writeFile(join(dir, 'htpasswd'), lines.join('\n') + '\n');
      auth = `auth: {htpasswd: {realm: basic-realm, path: ${JSON.stringify(join(dir, 'htpasswd'))}}}\n`;
    }
    const config =
      `version: 0.1\n` +
      `log: {level: warn, accesslog: {disabled: true}, fields: {service: registry}}\n` +
      `storage:\n  filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}\n` +
      `  delete: {enabled: true}\n  cache: {blobdescriptor: inmemory}\n` +
      `http:\n  addr: ${host}\n  headers: {X-Content-Type-Options: [nosniff]}\n` +
      auth;
    await writeFile(join(dir, 'config.yml'), config);
    const daemon = spawnDaemon('docker-registry', ['serve', join(dir, 'config.yml')], { logFile: join(dir, 'registry.log') });
    entry.child = daemon.child;
    const url = `http://${host}`;
    await waitFor('docker-registry', async () => [200, 401].includes((await httpGet(`${url}/v2/`)).status), { daemon });
    const stop = async () => {
      await daemon.kill(5_000);
      removeDir(dir);
      live.delete(entry);
    };
    const creds = opts.users?.[0];
    return { host, url, dir, daemon, stop, plainHttp: true, ...(creds ? { creds } : {}) };
  } catch (e) {
    killGroup(entry.child?.pid, 'SIGKILL');
    removeDir(dir);
    live.delete(entry);
    throw e;
  }
}

// ------------------------------------------------------------------------------------
// dockerd (Debian's docker.io engine) + docker CLI
// ------------------------------------------------------------------------------------

export interface Dockerd {
  dir: string;
  /** unix:///…/docker.sock */
  host: string;
  /** DOCKER_HOST, DOCKER_CONFIG (private, for logins), DOCKER_BUILDKIT=0 */
  env: Record<string, string>;
  docker: Tool;
  login: (registry: string, creds: Creds) => Promise<RunResult>;
  /** `docker build` a FROM-scratch image holding `files` (path -> content), tagged `tag`. */
  buildScratch: (tag: string, files: Record<string, string | Buffer>) => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * Start a private dockerd: own data-root/exec-root/socket, no bridge, no iptables.
 * Loopback registries are insecure (HTTP) by default in dockerd; `insecureRegistries`
 * adds others (host:port).
 */
export async function startDockerd(opts: { insecureRegistries?: string[] } = {}): Promise<Dockerd> {
  const dir = makeTempDir('dockerd');
  const entry = track({ dir });
  try {
    const sock = join(dir, 'docker.sock');
    const daemonJson = {
      'data-root': join(dir, 'data'),
      'exec-root': join(dir, 'exec'),
      pidfile: join(dir, 'dockerd.pid'),
      hosts: [`unix://${sock}`],
      iptables: false,
      'ip-masq': false,
      ip6tables: false,
      bridge: 'none',
      'log-level': 'warn',
      'insecure-registries': opts.insecureRegistries ?? [],
      features: { buildkit: false },
      'default-ulimits': { nofile: { Name: 'nofile', Hard: 1024, Soft: 1024 } },
    };
    await writeFile(join(dir, 'daemon.json'), JSON.stringify(daemonJson, null, 2));
    await mkdir(join(dir, 'config'), { recursive: true });
    const daemon = spawnDaemon('dockerd', ['--config-file', join(dir, 'daemon.json')], {
      logFile: join(dir, 'dockerd.log'),
    });
    entry.child = daemon.child;
    await waitFor('dockerd', async () => (await httpGet('http://localhost/_ping', { socketPath: sock })).status === 200, {
      daemon,
      timeoutMs: 60_000,
    });
    const env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'config'), DOCKER_BUILDKIT: '0' };
    const docker = makeTool(dockerCliPath(), env);
    const stop = async () => {
      await daemon.kill(20_000);
      removeDir(dir);
      live.delete(entry);
    };
    return {
      dir,
      host: env.DOCKER_HOST,
      env,
      docker,
      login: (registry, creds) =>
        docker(['login', '--username', creds.username, '--password-stdin', registry], { input: creds.password }),
      buildScratch: async (tag, files) => {
        const ctx = join(dir, 'ctx-' + randomBytes(4).toString('hex'));
        await writeTree(join(ctx, 'rootfs'), files);
        await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/nonexistent"]\n');
        await docker(['build', '-q', '-t', tag, ctx]);
        rmSync(ctx, { recursive: true, force: true });
        return tag;
      },
      stop,
    };
  } catch (e) {
    killGroup(entry.child?.pid, 'SIGKILL');
    removeDir(dir);
    live.delete(entry);
    throw e;
  }
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel.replace(/^\/+/, ''));
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
  }
}

// ------------------------------------------------------------------------------------
// containerd + ctr
// ------------------------------------------------------------------------------------

export interface Containerd {
  dir: string;
  address: string;
  /** command prefix: ['ctr', '--address', sock, '--namespace', ns] */
  ctrCommand: string[];
  ctr: Tool;
  /** flags for `ctr images pull/push` against a target: --plain-http, --user u:p */
  registryFlags: (target: RegistryTarget) => string[];
  stop: () => Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = makeTempDir('containerd');
  const entry = track({ dir });
  try {
    const address = join(dir, 'containerd.sock');
    const config = [
      'version = 2',
      `root = ${tomlString(join(dir, 'root'))}`,
      `state = ${tomlString(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.devmapper",',
      '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs"]',
      '[grpc]',
      `  address = ${tomlString(address)}`,
      '[ttrpc]',
      `  address = ${tomlString(address + '.ttrpc')}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${tomlString(join(dir, 'opt'))}`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.toml'), config);
    const daemon = spawnDaemon('containerd', ['-c', join(dir, 'config.toml')], { logFile: join(dir, 'containerd.log') });
    entry.child = daemon.child;
    const ctrCommand = ['ctr', '--address', address, '--namespace', 'berth-test'];
    const ctr = makeTool('ctr', {}, ctrCommand.slice(1));
    await waitFor('containerd', async () => (await run('ctr', ['--address', address, 'version'], { timeoutMs: 5_000 })).code === 0, {
      daemon,
    });
    const stop = async () => {
      await daemon.kill(10_000);
      removeDir(dir);
      live.delete(entry);
    };
    return {
      dir,
      address,
      ctrCommand,
      ctr,
      registryFlags: (t) => [
        ...(t.plainHttp === false ? [] : ['--plain-http']),
        ...(t.creds ? ['--user', `${t.creds.username}:${t.creds.password}`] : []),
      ],
      stop,
    };
  } catch (e) {
    killGroup(entry.child?.pid, 'SIGKILL');
    removeDir(dir);
    live.delete(entry);
    throw e;
  }
}

// ------------------------------------------------------------------------------------
// podman / buildah / skopeo (containers/image, containers/storage)
// ------------------------------------------------------------------------------------

export interface ContainersEnv {
  dir: string;
  /** CONTAINERS_STORAGE_CONF, CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF, REGISTRY_AUTH_FILE */
  env: Record<string, string>;
  podman: Tool;
  buildah: Tool;
  skopeo: Tool;
  /** --tls-verify=false for plain HTTP targets; side 'src'/'dest' gives skopeo copy's --src-/--dest- form */
  tlsFlags: (target: RegistryTarget, side?: 'src' | 'dest') => string[];
  /** `podman login` into the shared auth file (buildah and skopeo read it too) */
  login: (target: RegistryTarget) => Promise<RunResult>;
  stop: () => Promise<void>;
}

/**
 * Private config for podman/buildah/skopeo: overlay storage under a temp dir, runc,
 * cgroupfs, low ulimits (root lacks CAP_SYS_RESOURCE here), host netns, file events log.
 * `insecureRegistries` are also marked insecure in a private registries.conf.
 */
export async function createContainersEnv(
  opts: { insecureRegistries?: string[]; driver?: 'overlay' | 'vfs' } = {},
): Promise<ContainersEnv> {
  const dir = makeTempDir('containers');
  const entry = track({ dir });
  const storage = [
    '[storage]',
    `driver = ${tomlString(opts.driver ?? 'overlay')}`,
    `graphroot = ${tomlString(join(dir, 'storage'))}`,
    `runroot = ${tomlString(join(dir, 'run'))}`,
    '',
  ].join('\n');
  const containers = [
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    'netns = "host"',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${tomlString(join(dir, 'events.log'))}`,
    `tmp_dir = ${tomlString(join(dir, 'libpod-tmp'))}`,
    '',
  ].join('\n');
  const registries = [
    'unqualified-search-registries = []',
    'short-name-mode = "permissive"',
    ...(opts.insecureRegistries ?? []).flatMap((r) => ['[[registry]]', `location = ${tomlString(r)}`, 'insecure = true']),
    '',
  ].join('\n');
  await writeFile(join(dir, 'storage.conf'), storage);
  await writeFile(join(dir, 'containers.conf'), containers);
  await writeFile(join(dir, 'registries.conf'), registries);
  await writeFile(join(dir, 'auth.json'), '{}\n');
  const env = {
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
    TMPDIR: join(dir, 'tmp'),
  };
  await mkdir(env.TMPDIR, { recursive: true });
  const tlsFlags = (t: RegistryTarget, side?: 'src' | 'dest') =>
    t.plainHttp === false ? [] : [side ? `--${side}-tls-verify=false` : '--tls-verify=false'];
  const podman = makeTool('podman', env);
  return {
    dir,
    env,
    podman,
    buildah: makeTool('buildah', env),
    skopeo: makeTool('skopeo', env),
    tlsFlags,
    login: (t) => {
      if (!t.creds) throw new Error('login needs creds');
      return podman(['login', ...tlsFlags(t), '--username', t.creds.username, '--password-stdin', t.host], {
        input: t.creds.password,
      });
    },
    stop: async () => {
      // buildah working containers hold overlay mounts; unmount them, then drop everything
      await run('buildah', ['umount', '--all'], { env, timeoutMs: 30_000 });
      removeDir(dir);
      live.delete(entry);
    },
  };
}

// ------------------------------------------------------------------------------------
// Go clients: crane, oras, regctl, helm — one private HOME
// ------------------------------------------------------------------------------------

export interface GoClients {
  dir: string;
  /** HOME, DOCKER_CONFIG, REGCTL_CONFIG, HELM_* for the private home */
  env: Record<string, string>;
  crane: Tool;
  oras: Tool;
  regctl: Tool;
  helm: Tool;
  /** per-client flags for plain HTTP: crane --insecure, oras/helm --plain-http */
  flags: (target: RegistryTarget) => { crane: string[]; oras: string[]; helm: string[] };
  /** regctl registry set (tls) + every client's login (when target.creds) */
  configure: (target: RegistryTarget) => Promise<void>;
  stop: () => Promise<void>;
}

export async function createGoClients(): Promise<GoClients> {
  const dir = makeTempDir('goclients');
  const entry = track({ dir });
  const env = {
    HOME: dir,
    DOCKER_CONFIG: join(dir, '.docker'),
    REGCTL_CONFIG: join(dir, '.regctl', 'config.json'),
    HELM_CONFIG_HOME: join(dir, '.config', 'helm'),
    HELM_CACHE_HOME: join(dir, '.cache', 'helm'),
    HELM_DATA_HOME: join(dir, '.local', 'share', 'helm'),
    HELM_REGISTRY_CONFIG: join(dir, '.config', 'helm', 'registry', 'config.json'),
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_CACHE_HOME: join(dir, '.cache'),
    XDG_DATA_HOME: join(dir, '.local', 'share'),
  };
  for (const d of [env.DOCKER_CONFIG, dirname(env.REGCTL_CONFIG), dirname(env.HELM_REGISTRY_CONFIG)]) {
    await mkdir(d, { recursive: true });
  }
  const crane = makeTool(toolPath('crane'), env);
  const oras = makeTool(toolPath('oras'), env);
  const regctl = makeTool(toolPath('regctl'), env);
  const helm = makeTool(toolPath('helm'), env);
  const flags = (t: RegistryTarget) => {
    const plain = t.plainHttp !== false;
    return { crane: plain ? ['--insecure'] : [], oras: plain ? ['--plain-http'] : [], helm: plain ? ['--plain-http'] : [] };
  };
  return {
    dir,
    env,
    crane,
    oras,
    regctl,
    helm,
    flags,
    configure: async (t) => {
      const f = flags(t);
      await regctl(['registry', 'set', '--skip-check', '--tls', t.plainHttp === false ? 'enabled' : 'disabled', t.host]);
      if (!t.creds) return;
      const { username, password } = t.creds;
      // crane writes $DOCKER_CONFIG/config.json without contacting the registry
      await crane(['auth', 'login', t.host, '-u', username, '--password-stdin'], { input: password });
      await oras(['login', ...f.oras, '-u', username, '--password-stdin', t.host], { input: password });
      await regctl(['registry', 'login', t.host, '-u', username, '--pass-stdin'], { input: password });
      await helm(['registry', 'login', ...f.helm, '--username', username, '--password-stdin', t.host], { input: password });
    },
    stop: async () => {
      removeDir(dir);
      live.delete(entry);
    },
  };
}

// ------------------------------------------------------------------------------------
// content builders and checks
// ------------------------------------------------------------------------------------

export function sha256(data: string | Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function randomFiles(n = 2, size = 4096): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`data/rand-${i}-${randomBytes(4).toString('hex')}.bin`] = randomBytes(size);
  return files;
}

export interface OciLayoutImage {
  layout: string;
  tag: string;
  /** `oci:<layout>:<tag>` for skopeo */
  ref: string;
  manifestDigest: string;
  manifest: Buffer;
  files: Record<string, Buffer>;
}

/**
 * Build a one-layer OCI image with umoci (no engine) in an OCI layout at `layout`.
 * The layer holds `files` (default: random content), so every call yields new digests.
 */
export async function buildOciImage(
  layout: string,
  opts: { tag?: string; files?: Record<string, Buffer>; architecture?: string; os?: string; labels?: Record<string, string> } = {},
): Promise<OciLayoutImage> {
  const tag = opts.tag ?? 'latest';
  const files = opts.files ?? randomFiles();
  const bundle = `${layout}.bundle-${randomBytes(4).toString('hex')}`;
  if (!existsSync(join(layout, 'index.json'))) await runOk('umoci', ['init', '--layout', layout]);
  await runOk('umoci', ['new', '--image', `${layout}:${tag}`]);
  await runOk('umoci', ['unpack', '--rootless', '--image', `${layout}:${tag}`, bundle]);
  await writeTree(join(bundle, 'rootfs'), files);
  await runOk('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
  rmSync(bundle, { recursive: true, force: true });
  const cfg = ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/nonexistent'];
  if (opts.architecture) cfg.push('--architecture', opts.architecture);
  if (opts.os) cfg.push('--os', opts.os);
  for (const [k, v] of Object.entries(opts.labels ?? {})) cfg.push('--config.label', `${k}=${v}`);
  await runOk('umoci', cfg);
  await runOk('umoci', ['gc', '--layout', layout]);
  const { digest, manifest } = await readLayoutManifest(layout, tag);
  return { layout, tag, ref: `oci:${layout}:${tag}`, manifestDigest: digest, manifest, files };
}

/** The manifest (digest and bytes) that an OCI layout's index.json tags as `tag`. */
export async function readLayoutManifest(layout: string, tag: string): Promise<{ digest: string; manifest: Buffer }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`tag ${tag} not in ${layout}/index.json`);
  return { digest: desc.digest, manifest: await readLayoutBlob(layout, desc.digest) };
}

export function readLayoutBlob(layout: string, digest: string): Promise<Buffer> {
  const [alg, hex] = digest.split(':');
  return readFile(join(layout, 'blobs', alg, hex));
}

/**
 * Read every layer of an image stored in an OCI layout (or a `skopeo copy … dir:` dir
 * when `dirLayout`) and return the merged regular files (path -> bytes).
 */
export async function readImageFiles(layout: string, tag: string): Promise<Record<string, Buffer>> {
  const { manifest } = await readLayoutManifest(layout, tag);
  const m = JSON.parse(manifest.toString('utf8')) as { layers: { digest: string }[] };
  const files: Record<string, Buffer> = {};
  for (const l of m.layers) Object.assign(files, untar(maybeGunzip(await readLayoutBlob(layout, l.digest))));
  return files;
}

export function maybeGunzip(b: Buffer): Buffer {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

/** Regular files of a tar archive (ustar/pax/gnu long names), path without leading ./ or /. */
export function untar(tar: Buffer): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  const str = (b: Buffer) => {
    const z = b.indexOf(0);
    return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
  };
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = str(h.subarray(345, 500));
    let name = (h.subarray(257, 262).toString() === 'ustar' && prefix ? prefix + '/' : '') + str(h.subarray(0, 100));
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body);
      continue;
    }
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) paxPath = m[1];
      continue;
    }
    if (type === 'g') continue;
    name = paxPath ?? longName ?? name;
    paxPath = longName = undefined;
    name = name.replace(/^(\.\/|\/)+/, '');
    if (type === '0' || type === '\0' || type === '7') files[name] = Buffer.from(body);
  }
  return files;
}

/** Write a minimal helm chart (Chart.yaml + values + one ConfigMap) and return its dir. */
export async function writeHelmChart(parent: string, name: string, version: string): Promise<string> {
  const dir = join(parent, name);
  await writeTree(dir, {
    'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: test chart\ntype: application\n`,
    'values.yaml': `nonce: ${JSON.stringify(randomBytes(8).toString('hex'))}\n`,
    'templates/configmap.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  nonce: {{ .Values.nonce | quote }}\n',
  });
  return dir;
}
