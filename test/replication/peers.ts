// Real replication peers for the tests: Debian's docker-registry (CNCF Distribution 2.8) and CNCF Distribution
// v3.1.2 started with a temp config, as bench/run.ts does. A second Berth comes from test/helpers/berth.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DockerRegistry {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

export async function startDockerRegistry(): Promise<DockerRegistry> {
  return startRegistryBinary('docker-registry', '');
}

/** CNCF Distribution v3 (`.tools/bin/registry`, built by scripts/ci-deps.sh). */
export const DISTRIBUTION_BIN = join(import.meta.dirname, '..', '..', '.tools', 'bin', 'registry');

/**
 * CNCF Distribution v3.1.2; with `basic`, behind htpasswd (bcrypt, as the registry requires) for that user.
 */
export async function startDistribution(opts: { basic?: { username: string; password: string } } = {}): Promise<DockerRegistry> {
  let auth = '';
  if (opts.basic) {
    const { execFileSync } = await import('node:child_process');
    const line = execFileSync('htpasswd', ['-nbB', opts.basic.username, opts.basic.password], { encoding: 'utf8' }).trim();
    const file = join(mkdtempSync(join(tmpdir(), 'berth-htpasswd-')), 'htpasswd');
    writeFileSync(file, `${line}\n`);
    auth = `auth:\n  htpasswd: {realm: berth-test, path: ${file}}\n`;
  }
  return startRegistryBinary(DISTRIBUTION_BIN, auth);
}

async function startRegistryBinary(bin: string, extra: string): Promise<DockerRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-docker-registry-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const cfg = join(dir, 'config.yml');
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
${extra}`,
  );
  const proc = spawn(bin, ['serve', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200 || (extra && r.status === 401)) break;
    } catch {}
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`${bin} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    url,
    process: proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy to a peer that the test can cut (a network partition: both ends keep running) and heal. */
export interface CuttableProxy {
  url: string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: URL): Promise<CuttableProxy> {
  const { connect } = await import('node:net');
  let open = true;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    heal() {
      open = true;
    },
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
