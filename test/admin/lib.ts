// Runs the real `berth` CLI as a child process against a test deployment (test/helpers/berth.ts).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { dropTestDatabase } from '../helpers/pg.ts';
import { join } from 'node:path';
import { NODE, ROOT, type Berth } from '../helpers/berth.ts';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The BERTH_* environment of a deployment: its data dir, database and storage. */
export function deploymentEnv(d: { dataDir: string; database: 'sqlite' | 'postgres'; pgUrl: string | null; storageEnv?: Record<string, string> }): Record<string, string> {
  return {
    BERTH_DATA_DIR: d.dataDir,
    BERTH_DATABASE_TYPE: d.database,
    ...(d.pgUrl ? { BERTH_DATABASE_POSTGRES_URL: d.pgUrl } : {}),
    ...d.storageEnv,
  };
}

export const berthEnv = (b: Berth): Record<string, string> => deploymentEnv(b);

export function cli(args: string[], env: Record<string, string>, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(NODE, [join(ROOT, 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`berth ${args.join(' ')} did not exit:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** Lists a test file fills with what it starts and creates; all of it is stopped and removed after its tests. */
export function trackResources(): { dirs: string[]; databases: string[]; berths: Berth[] } {
  const r = { dirs: [] as string[], databases: [] as string[], berths: [] as Berth[] };
  after(async () => {
    for (const b of r.berths) await b.stop().catch(() => {});
    for (const d of r.dirs) rmSync(d, { recursive: true, force: true });
    for (const n of r.databases) await dropTestDatabase(n).catch(() => {});
  });
  return r;
}
