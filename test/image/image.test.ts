// Berth's container image (scripts/build-image.sh): built once (cached under .tools/image by a hash of its
// inputs), rebuilt from scratch to show the build is reproducible (same manifest digest), pushed with skopeo to
// a Berth started by the test, pulled from there by podman and run (host network, so the port is a free loopback
// port); the containerized Berth answers /api/v2.0/ping and health, takes a push and gives the same image back,
// and stops cleanly on SIGTERM (podman stop), the way Kubernetes ends a pod.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startBerth, type Berth } from '../helpers/berth.ts';
import { buildOciImage, createContainersEnv, freePort, httpGet, makeTempDir, randomFiles, readImageFiles, removeDir, run, runOk, waitFor, type ContainersEnv } from '../helpers/clients.ts';
import { assertSameFiles } from '../clients/lib.ts';
import { NODE_FLAGS } from '../../src/node-flags.ts';

const SCRIPT = join(ROOT, 'scripts', 'build-image.sh');
const TAG = 'test';
const CONTAINER_ADMIN_PASSWORD = 'Container-Admin-1';

interface Built {
  layout: string;
  digest: string;
}
async function build(args: string[] = []): Promise<Built> {
  // the script needs node (for package-lock.json) first on PATH: this process's Node 24
  const r = await runOk('bash', [SCRIPT, '--tag', TAG, ...args], { timeoutMs: 300_000, env: { PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` } });
  const layout = /^layout (.+)$/m.exec(r.stdout)?.[1];
  const digest = /^digest (sha256:[0-9a-f]{64})$/m.exec(r.stdout)?.[1];
  assert.ok(layout && digest, `unexpected build-image.sh output:\n${r.stdout}\n${r.stderr}`);
  return { layout, digest };
}
const blob = (layout: string, digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));

let built: Built;
let berth: Berth;
let cenv: ContainersEnv;
let tmp: string;

before(async () => {
  tmp = makeTempDir('image');
  built = await build();
  berth = await startBerth();
  cenv = await createContainersEnv({ insecureRegistries: [berth.host] });
});
after(async () => {
  await cenv?.podman(['rm', '-f', '-a'], { allowFail: true });
  await cenv?.stop();
  await berth?.stop();
  if (tmp) removeDir(tmp);
});

describe('container image', { timeout: 600_000 }, () => {
  test('the image: node entrypoint with Berth flags, non-root user, no tests in it, no shell', () => {
    const index = JSON.parse(readFileSync(join(built.layout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, built.digest);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], TAG);
    const manifest = JSON.parse(blob(built.layout, built.digest).toString());
    assert.equal(manifest.layers.length, 3);
    const config = JSON.parse(blob(built.layout, manifest.config.digest).toString());
    assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/node', ...NODE_FLAGS, '/app/src/cli.ts']);
    assert.deepEqual(config.config.Cmd, ['serve']);
    assert.equal(config.config.User, '10000:10000');
    assert.equal(config.config.StopSignal, 'SIGTERM');
    assert.ok(config.config.Env.includes('BERTH_DATA_DIR=/var/lib/berth'));
    // every timestamp is SOURCE_DATE_EPOCH's (the last commit), not the build time
    const commitTime = Number((execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT }).toString().trim()));
    assert.equal(new Date(config.created).getTime() / 1000, commitTime);
    assert.ok(config.history.every((h: { created: string }) => h.created === config.created));
  });

  test('the app layer holds src (without tests), the built portal and package.json; the runtime has no shell', async () => {
    const manifest = JSON.parse(blob(built.layout, built.digest).toString());
    const list = async (i: number) => (await runOk('tar', ['-tzf', join(built.layout, 'blobs', 'sha256', manifest.layers[i].digest.slice(7))])).stdout.split('\n');
    const app = await list(2);
    for (const f of ['app/package.json', 'app/src/cli.ts', 'app/portal/dist/index.html']) assert.ok(app.includes(f), `${f} missing from the app layer`);
    assert.ok(!app.some((f) => f.endsWith('.test.ts')), 'test files in the image');
    const runtime = await list(0);
    assert.ok(runtime.includes('usr/local/bin/node') && runtime.includes('lib64/ld-linux-x86-64.so.2'));
    assert.ok(!runtime.some((f) => /(^|\/)bin\/(ba)?sh$/.test(f)), 'a shell in the image');
    const modules = await list(1);
    assert.ok(modules.includes('app/node_modules/fastify/package.json'));
    assert.ok(!modules.some((f) => f.startsWith('app/node_modules/vite/') || f.startsWith('app/node_modules/typescript/')), 'dev dependencies in the image');
  });

  test('a second build from scratch gives the same digest (reproducible)', async () => {
    const again = await build(['--no-cache', '--out', join(tmp, 'rebuild')]);
    assert.equal(again.digest, built.digest);
  });

  test('pushed to Berth, pulled and run by podman: ping, health, push and pull through the containerized Berth, SIGTERM stop', async () => {
    const ref = `${berth.host}/library/berth:${TAG}`;
    await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `admin:${berth.adminPassword}`, `oci:${built.layout}:${TAG}`, `docker://${ref}`], { timeoutMs: 300_000 });
    const inspected = JSON.parse((await cenv.skopeo(['inspect', '--tls-verify=false', '--creds', `admin:${berth.adminPassword}`, `docker://${ref}`])).stdout);
    assert.equal(inspected.Digest, built.digest, 'Berth stores the image byte for byte');
    await cenv.login({ host: berth.host, creds: { username: 'admin', password: berth.adminPassword } });
    await cenv.podman(['pull', '--tls-verify=false', ref], { timeoutMs: 300_000 });

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await cenv.podman([
      'run', '-d', '--name', 'berth-under-test', '--network', 'host',
      '-e', `BERTH_HTTP_PORT=${port}`, '-e', 'BERTH_HTTP_HOST=127.0.0.1',
      '-e', `BERTH_AUTH_ADMIN_INITIAL_PASSWORD=${CONTAINER_ADMIN_PASSWORD}`,
      ref,
    ]);
    const logs = async () => {
      const r = await cenv.podman(['logs', 'berth-under-test'], { allowFail: true });
      return r.stdout + r.stderr;
    };
    try {
      await waitFor('containerized Berth', async () => (await httpGet(`${url}/api/v2.0/ping`)).body.toString() === 'Pong', { timeoutMs: 60_000 });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await logs()}`);
    }
    const health = JSON.parse((await httpGet(`${url}/api/v2.0/health`)).body.toString());
    assert.equal(health.status, 'healthy', JSON.stringify(health));

    // a push and a pull through the Berth inside the container
    const img = await buildOciImage(join(tmp, 'small'), { tag: 'v1', files: randomFiles(2, 8192) });
    await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `admin:${CONTAINER_ADMIN_PASSWORD}`, img.ref, `docker://127.0.0.1:${port}/library/small:v1`]);
    await cenv.skopeo(['copy', '--src-tls-verify=false', '--src-creds', `admin:${CONTAINER_ADMIN_PASSWORD}`, `docker://127.0.0.1:${port}/library/small:v1`, `oci:${join(tmp, 'back')}:v1`]);
    assertSameFiles(await readImageFiles(join(tmp, 'back'), 'v1'), await readImageFiles(img.layout, 'v1'), 'pulled from the containerized Berth');

    // SIGTERM (podman stop): Berth shuts down by itself well within the grace period, exit code 0
    const t0 = Date.now();
    await cenv.podman(['stop', '-t', '30', 'berth-under-test'], { timeoutMs: 60_000 });
    assert.ok(Date.now() - t0 < 25_000, `stop took ${Date.now() - t0} ms`);
    const state = JSON.parse((await cenv.podman(['inspect', 'berth-under-test'])).stdout)[0].State;
    assert.equal(state.ExitCode, 0, `exit code ${state.ExitCode}\n${await logs()}`);
  });
});
