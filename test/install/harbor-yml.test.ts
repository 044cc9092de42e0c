// End to end: Berth started the way a Harbor operator starts Harbor — Harbor 2.15's harbor.yml (the installer
// template, filled in: hostname, http/https ports, certificate, admin password, data volume; on PostgreSQL its
// external_database block) — then images pushed and pulled over HTTPS by skopeo and crane trusting the test CA.
// `berth config` prints what the file became; a harbor.yml with a wrong type does not start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, NODE, testDatabase } from '../helpers/berth.ts';
import { createTestDatabase, dropTestDatabase, pgDatabaseUrl } from '../helpers/pg.ts';
import { NODE_FLAGS } from '../../src/node-flags.ts';
import { buildOciImage, createContainersEnv, createGoClients, freePort, makeTempDir, randomFiles, readImageFiles, run, untar, type ContainersEnv, type GoClients } from '../helpers/clients.ts';
import { createTestCa, type TestCa } from '../helpers/tls.ts';
import { assertSameFiles } from '../clients/lib.ts';

const CLI = join(ROOT, 'src', 'cli.ts');
const TEMPLATE = readFileSync(join(ROOT, 'test', 'fixtures', 'harbor-yml', 'harbor-2.15.yml'), 'utf8');
const ADMIN_PASSWORD = 'Harbor-E2e-12345';

/** The template as an operator fills it in; `extra` is appended (e.g. external_database). */
function fillTemplate(o: { httpPort: number; httpsPort: number; cert: string; key: string; dataVolume: string; logDir: string; extra?: string }): string {
  const text = TEMPLATE.replace(/^hostname: .*$/m, 'hostname: 127.0.0.1')
    .replace(/^http:\n(\s+#.*\n)*\s+port: 80$/m, (m) => m.replace('port: 80', `port: ${o.httpPort}`))
    .replace(/^(https:\n(?:\s+#.*\n)*\s+)port: 443$/m, `$1port: ${o.httpsPort}`)
    .replace('/data/cert/reg.mydomain.com.crt', o.cert)
    .replace('/data/cert/reg.mydomain.com.key', o.key)
    .replace(/^harbor_admin_password: .*$/m, `harbor_admin_password: ${ADMIN_PASSWORD}`)
    .replace(/^data_volume: .*$/m, `data_volume: ${o.dataVolume}`)
    // The fixture logs to /var/log/harbor: a temp dir here, or the server would try to write there.
    .replace('location: /var/log/harbor', `location: ${o.logDir}`);
  assert.match(text, new RegExp(`port: ${o.httpPort}\\b`));
  assert.match(text, new RegExp(`port: ${o.httpsPort}\\b`));
  return text + (o.extra ?? '');
}

/** harbor.yml's external_database block for a PostgreSQL URL. */
function externalDatabase(url: string): string {
  const u = new URL(url);
  return [
    'external_database:',
    '  harbor:',
    `    host: ${u.hostname}`,
    `    port: ${u.port || 5432}`,
    `    db_name: ${u.pathname.slice(1)}`,
    `    username: ${decodeURIComponent(u.username)}`,
    `    password: "${decodeURIComponent(u.password)}"`,
    '    ssl_mode: disable',
    '    max_idle_conns: 2',
    '    max_open_conns: 10',
    '',
  ].join('\n');
}

describe(`Berth from a harbor.yml (${testDatabase()})`, { timeout: 600_000 }, () => {
  let ca: TestCa;
  let work: string;
  let file: string;
  let child: ChildProcess;
  let out = '';
  let httpsPort: number;
  let httpPort: number;
  let pgName: string | null = null;
  let cenv: ContainersEnv;
  let go: GoClients;
  const host = () => `127.0.0.1:${httpsPort}`;

  before(async () => {
    ca = createTestCa();
    work = makeTempDir('harbor-yml');
    const pair = ca.issue('registry');
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    let extra = '';
    if (testDatabase() === 'postgres') {
      pgName = (await createTestDatabase()).name;
      extra = externalDatabase(pgDatabaseUrl(pgName));
    }
    file = join(work, 'harbor.yml');
    writeFileSync(file, fillTemplate({ httpPort, httpsPort, cert: pair.cert, key: pair.key, dataVolume: join(work, 'data'), logDir: join(work, 'logs'), extra }));
    // Only the listen address comes from the environment (harbor.yml has none: Harbor listens on every interface).
    child = spawn(NODE, [...NODE_FLAGS, CLI, 'serve', '--config', file], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', BERTH_HTTP_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start in 60 s:\n${out}`)), 60_000);
      const check = () => {
        if (/listening on https:\/\//.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    cenv = await createContainersEnv({ driver: 'vfs' });
    go = await createGoClients();
  });
  after(async () => {
    await cenv?.stop();
    await go?.stop();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (pgName) await dropTestDatabase(pgName).catch(() => {});
    rmSync(work ?? '/nonexistent', { recursive: true, force: true });
    rmSync(ca?.dir ?? '/nonexistent', { recursive: true, force: true });
  });

  test('starts on the harbor.yml ports with its admin password, warning once about the unsupported keys', async () => {
    assert.match(out, new RegExp(`listening on https://127\\.0\\.0\\.1:${httpsPort} \\(database ${testDatabase()}`));
    assert.match(out, new RegExp(`HTTP on http://127\\.0\\.0\\.1:${httpPort} redirects to HTTPS`));
    const warnings = out.split('\n').filter((l) => l.includes('warning'));
    assert.equal(warnings.length, 1, out);
    assert.match(warnings[0], /harbor\.yml keys not supported by Berth, ignored: .*jobservice\.max_job_duration_hours/);
    assert.doesNotMatch(warnings[0], /log\.local/, 'log.local.* are supported');
    assert.doesNotMatch(out, new RegExp(ADMIN_PASSWORD), 'the admin password is never printed');
    assert.doesNotMatch(out, /Generated the initial password/, 'harbor_admin_password was used');
  });

  test('skopeo and crane push and pull over HTTPS as admin with harbor_admin_password', async () => {
    const creds = `admin:${ADMIN_PASSWORD}`;
    const certDir = join(work, 'certs.d');
    mkdirSync(certDir, { recursive: true });
    copyFileSync(ca.caCert, join(certDir, 'ca.crt'));
    const img = await buildOciImage(join(work, 'layout'), { tag: 'v1', files: randomFiles(2, 256 * 1024) });
    const ref = `docker://${host()}/library/from-harbor-yml:v1`;
    await cenv.skopeo(['copy', '--dest-cert-dir', certDir, '--dest-creds', creds, img.ref, ref]);
    await cenv.skopeo(['copy', '--src-cert-dir', certDir, '--src-creds', creds, ref, `oci:${join(work, 'back')}:v1`]);
    assertSameFiles(await readImageFiles(join(work, 'back'), 'v1'), img.files, 'skopeo');
    const env = { SSL_CERT_FILE: ca.caCert };
    await go.crane(['auth', 'login', host(), '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD, env });
    await go.crane(['copy', `${host()}/library/from-harbor-yml:v1`, `${host()}/library/from-harbor-yml:copied`], { env });
    assertSameFiles(untar((await go.crane(['export', `${host()}/library/from-harbor-yml:copied`, '-'], { env })).stdoutBytes), img.files, 'crane');
    // The blobs landed under data_volume.
    const listed = await run('find', [join(work, 'data'), '-type', 'f']);
    assert.match(listed.stdout, /storage/);
  });

  test('`berth config --config harbor.yml` prints the effective configuration, secrets masked', async () => {
    const r = await run(NODE, [CLI, 'config', '--config', file], { cwd: work, env: { BERTH_HTTP_HOST: '127.0.0.1' } });
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.equal(c.http.externalUrl, `https://127.0.0.1:${httpsPort}`);
    assert.equal(c.http.port, httpPort);
    assert.equal(c.https.port, httpsPort);
    assert.equal(c.https.redirectHttp, true);
    assert.equal(c.dataDir, join(work, 'data'));
    assert.equal(c.auth.adminInitialPassword, '<set>');
    assert.equal(c.jobservice.maxJobWorkers, 10);
    assert.equal(c.harborYml.mapped.harbor_admin_password, 'auth.admin_initial_password');
    assert.ok(c.harborYml.noted['trivy.offline_scan']);
    assert.equal(c.harborYml.mapped['log.local.rotate_size'], 'log.rotate_size');
    assert.equal(c.log.file, join(work, 'logs', 'berth.log'));
    // log.local.location: the server's JSON log is there, not on stdout.
    const lines = readFileSync(join(work, 'logs', 'berth.log'), 'utf8').trim().split('\n');
    assert.ok(lines.length > 0 && lines.every((l) => typeof JSON.parse(l).level === 'number'));
    if (pgName) {
      assert.equal(c.database.type, 'postgres');
      assert.equal(c.database.postgresMaxConnections, 10);
    }
    assert.doesNotMatch(r.stdout, new RegExp(ADMIN_PASSWORD));
    // external_database.harbor.password ends up in the PostgreSQL URL: masked there (config needs no connection).
    const withPw = join(work, 'pw-harbor.yml');
    writeFileSync(withPw, readFileSync(file, 'utf8').replace(/^external_database:[\s\S]*$/m, '') + externalDatabase('postgres://harbor:Db-Secret-42@db.example.com:5432/registry'));
    const p = await run(NODE, [CLI, 'config', '--config', withPw], { cwd: work });
    assert.equal(p.code, 0, p.stderr);
    assert.equal(JSON.parse(p.stdout).database.postgresUrl, 'postgres://harbor:<set>@db.example.com:5432/registry?sslmode=disable');
    assert.doesNotMatch(p.stdout + p.stderr, /Db-Secret-42/);
    assert.doesNotMatch(r.stdout, new RegExp(ADMIN_PASSWORD));
    assert.match(r.stderr, /harbor\.yml keys not supported by Berth/);
  });

  test('a harbor.yml with wrong types does not start; every problem names its harbor.yml key', async () => {
    const bad = join(work, 'bad-harbor.yml');
    writeFileSync(
      bad,
      readFileSync(file, 'utf8')
        .replace(/^jobservice:\n(\s+#.*\n)*\s+max_job_workers: 10$/m, (m) => m.replace('max_job_workers: 10', 'max_job_workers: lots'))
        .replace(/^  age: 168h$/m, '  age: one week'),
    );
    const r = await run(NODE, [CLI, 'serve', '--config', bad], { cwd: work, env: { BERTH_HTTP_HOST: '127.0.0.1' }, timeoutMs: 60_000 });
    assert.equal(r.code, 78, r.stdout + r.stderr);
    assert.match(r.stderr, /jobservice\.max_job_workers: expected an integer, got "lots"/);
    assert.match(r.stderr, /upload_purging\.age: expected a duration/);
    assert.doesNotMatch(r.stdout, /listening/);
  });
});
