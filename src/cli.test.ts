// The `berth` command line, run as a real child process (process.execPath is the Node 24 running the suite).
import { suite, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeKeys } from './config/config.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const dirs: string[] = [];
const databases: string[] = [];
const pgAdminUrl = process.env.BERTH_TEST_PG_URL || 'postgres://postgres@127.0.0.1:55432/postgres';

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgAdminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const children = new Set<ChildProcess>();
after(async () => {
  // A failed assertion must not leave a server running (it would also keep this test process alive).
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const name of databases) await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  dirs.push(d);
  return d;
}

/** A clean environment: nothing BERTH_* leaks in from the test runner. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...extra };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], extraEnv: Record<string, string> = {}, cwd = tmp()): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`berth ${args.join(' ')} did not exit:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
}

interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves once the process exited and its output was read to the end. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Resolves when `re` matches the output so far. */
function waitFor(child: ChildProcess, output: () => string, re: RegExp, closed: Promise<unknown>): Promise<RegExpExecArray> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no ${re} in 30 s:\n${output()}`)), 30_000);
    const check = () => {
      const m = re.exec(output());
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        res(m);
      }
    };
    child.stdout!.on('data', check);
    check();
    closed.then(() => {
      clearTimeout(timer);
      rej(new Error(`berth serve exited before printing ${re}:\n${output()}`));
    });
  });
}

const LISTENING = /^Berth listening on (http:\/\/127\.0\.0\.1:(\d+)) \(database (sqlite|postgres), data .+\) in \d+ ms$/m;
const GENERATED = /^Generated the initial password for user "admin" \(shown once, change it after login\): (\S+)$/m;

async function serve(extra: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: tmp(), env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  const m = await waitFor(child, () => out, LISTENING, closed);
  return { child, url: m[1], output: () => out, closed };
}

async function stop(s: Server): Promise<void> {
  s.child.kill('SIGTERM');
  const { code, signal } = await s.closed;
  assert.equal(signal, null, `exited on its own after SIGTERM:\n${s.output()}`);
  assert.equal(code, 0, `exit code after SIGTERM:\n${s.output()}`);
}

const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

suite('berth CLI', { concurrency: true }, () => {
  test('--help exits 0 and lists every config key with its environment variable', async () => {
    const flags = ['--help', '-h', 'help'];
    const runs = await Promise.all(flags.map((f) => run([f])));
    for (const [i, flag] of flags.entries()) {
      const r = runs[i];
      assert.equal(r.code, 0, flag);
      assert.match(r.stdout, /berth serve/);
      assert.match(r.stdout, /berth config/);
      for (const line of describeKeys()) {
        const [key, envName] = line.trim().split(/\s+/);
        assert.ok(r.stdout.includes(key), `${flag} lists ${key}`);
        assert.ok(r.stdout.includes(envName), `${flag} lists ${envName}`);
      }
      assert.match(r.stdout, /http\.port\s+BERTH_HTTP_PORT\s+default 5000/);
      assert.match(r.stdout, /registry\.upload_idle_timeout\s+BERTH_REGISTRY_UPLOAD_IDLE_TIMEOUT/);
    }
  });

  test('no command, an unknown command or an unknown option exits 2 with the usage', async () => {
    const [none, unknown, badOpt] = await Promise.all([run([]), run(['frobnicate']), run(['serve', '--no-such-option'])]);
    assert.equal(none.code, 2);
    assert.match(none.stdout + none.stderr, /Usage:/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command frobnicate/);
    assert.equal(badOpt.code, 2);
    assert.match(badOpt.stderr, /no-such-option/);
  });

  test('config prints the effective configuration (secrets masked) and exits 0', async () => {
    const dir = tmp();
    const file = join(dir, 'berth.yml');
    writeFileSync(file, 'http:\n  port: 6123\nauth:\n  admin_initial_password: "Very-Secret-1"\n');
    const [r, viaEnv] = await Promise.all([run(['config', '--config', file], { BERTH_LOG_LEVEL: 'warn' }, dir), run(['config'], { BERTH_CONFIG: file }, dir)]);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.equal(c.http.port, 6123);
    assert.equal(c.log.level, 'warn');
    assert.equal(c.dataDir, join(dir, 'data'));
    assert.equal(c.auth.adminInitialPassword, '<set>');
    assert.ok(!r.stdout.includes('Very-Secret-1'));
    // BERTH_CONFIG names the file too.
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(JSON.parse(viaEnv.stdout).http.port, 6123);
    // an advisory source URL is printed without its query (it may carry a token)
    const adv = await run(['config'], { BERTH_SCANNER_ADVISORIES: 'https://mirror.example/osv/all.zip?token=Very-Secret-2' }, dir);
    assert.equal(adv.code, 0, adv.stderr);
    assert.equal(JSON.parse(adv.stdout).scanner.advisories, 'https://mirror.example/osv/all.zip?<set>');
    assert.ok(!adv.stdout.includes('Very-Secret-2'));
  });

  test('config with a bad file exits 78 and prints every problem', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.yml');
    const notYaml = join(dir, 'not-yaml.yml');
    writeFileSync(notYaml, 'http: [unclosed');
    writeFileSync(
      file,
      ['http:', '  port: 99999', '  colour: blue', 'database:', '  type: mysql', 'registry:', '  max_manifest_size: small', 'log:', '  level: loud', ''].join('\n'),
    );
    const [r, yaml, missing] = await Promise.all([
      run(['config', '--config', file], { BERTH_NOPE: '1' }, dir),
      run(['config', '-c', notYaml], {}, dir),
      run(['config', '--config', join(dir, 'missing.yml')], {}, dir),
    ]);
    assert.equal(r.code, 78);
    assert.equal(r.stdout, '');
    for (const re of [
      /http\.port: 99999 is out of range/,
      /http\.colour: unknown key/,
      /database\.type: must be one of sqlite, postgres/,
      /registry\.max_manifest_size: expected an integer/,
      /log\.level: must be one of/,
      /BERTH_NOPE: unknown environment variable/,
    ])
      assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

    // Invalid YAML and a missing file are configuration errors too.
    assert.equal(yaml.code, 78);
    assert.match(yaml.stderr, /not valid YAML/);
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /cannot read config file/);
  });

  test('serve with BERTH_HTTP_PORT=abc exits 78 with a clear message', async () => {
    const r = await run(['serve'], { BERTH_HTTP_PORT: 'abc', BERTH_DATA_DIR: tmp() });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /http\.port: expected an integer, got "abc"/);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  test('serve prints the listening line and the generated admin password on first start only; SIGTERM exits 0', async () => {
    const dataDir = tmp();
    const extra: Record<string, string> = { BERTH_DATA_DIR: dataDir, BERTH_HTTP_HOST: '127.0.0.1', BERTH_HTTP_PORT: '0', BERTH_LOG_LEVEL: 'warn' };
    if (process.env.BERTH_TEST_DATABASE === 'postgres') {
      const name = `berth_clitest_${randomBytes(6).toString('hex')}`;
      await pgAdmin(`CREATE DATABASE ${name}`);
      databases.push(name);
      const u = new URL(pgAdminUrl);
      u.pathname = '/' + name;
      Object.assign(extra, { BERTH_DATABASE_TYPE: 'postgres', BERTH_DATABASE_POSTGRES_URL: u.toString() });
    }

    const first = await serve(extra);
    const password = (await waitFor(first.child, first.output, GENERATED, first.closed))[1];
    assert.ok(password.length >= 8 && /[A-Z]/.test(password) && /[a-z]/.test(password) && /\d/.test(password));
    // The printed password is the admin's.
    assert.equal((await fetch(`${first.url}/v2/`, { headers: { authorization: basic('admin', password) } })).status, 200);
    assert.equal((await fetch(`${first.url}/v2/`, { headers: { authorization: basic('admin', password + 'x') } })).status, 401);
    await stop(first);

    assert.equal(first.output().match(/Generated the initial password/g)?.length, 1);

    const second = await serve(extra);
    assert.equal((await fetch(`${second.url}/v2/`, { headers: { authorization: basic('admin', password) } })).status, 200);
    await stop(second);
    // Judged on the whole output, read to the end after the process closed.
    assert.match(second.output(), LISTENING);
    assert.doesNotMatch(second.output(), /Generated the initial password/);
    assert.ok(!second.output().includes(password), 'the password is never printed again');
  });
});
