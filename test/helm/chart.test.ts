// The Helm chart (deploy/helm/berth): `helm lint`, then `helm template` for several value sets, every rendered
// manifest validated offline against Kubernetes' own schemas (kubernetes-validate, strict, fixed versions), and
// the facts that matter asserted on the output: probe paths, env and secret wiring, forced single replica on the
// internal database, Service/Ingress shapes. The env the chart renders is also fed to `berth config`, so a
// BERTH_* name or value Berth would refuse fails here and not in a cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, NODE } from '../helpers/berth.ts';
import { makeTempDir, removeDir, run, runOk } from '../helpers/clients.ts';
import { NODE_FLAGS } from '../../src/node-flags.ts';

const CHART = join(ROOT, 'deploy', 'helm', 'berth');
const HELM = join(ROOT, '.tools', 'bin', 'helm');
const VALIDATE = join(ROOT, '.tools', 'k8s-validate', 'bin', 'kubernetes-validate');
// The newest schema set kubernetes-validate 1.37 ships, and the oldest release the chart supports
// (the preStop sleep action is GA from 1.30).
const K8S_VERSIONS = ['1.37.0', '1.30.0'];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  type?: string;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

let dir: string;
let n = 0;

async function render(values: object, release = 'reg'): Promise<{ file: string; objects: K8sObject[]; notes: string }> {
  const valuesFile = join(dir, `values-${++n}.json`);
  writeFileSync(valuesFile, JSON.stringify(values));
  await runOk(HELM, ['lint', CHART, '-f', valuesFile]);
  const r = await runOk(HELM, ['template', release, CHART, '-f', valuesFile, '--namespace', 'registry']);
  const file = join(dir, `rendered-${n}.yaml`);
  writeFileSync(file, r.stdout);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  const notes = (await runOk(HELM, ['install', release, CHART, '-f', valuesFile, '--dry-run=client', '--namespace', 'registry'])).stdout;
  return { file, objects, notes };
}

function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  assert.ok(o, `no ${kind}${name ? ` ${name}` : ''} in [${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}]`);
  return o;
}
const container = (objects: K8sObject[]) => find(objects, 'Deployment').spec.template.spec.containers[0];
const env = (objects: K8sObject[]): Map<string, EnvVar> => new Map((container(objects).env as EnvVar[]).map((e) => [e.name, e]));
const secretRef = (e: EnvVar | undefined) => e?.valueFrom?.secretKeyRef;

async function validate(file: string, kinds: number): Promise<void> {
  for (const v of K8S_VERSIONS) {
    const r = await run(VALIDATE, ['--strict', '-k', v, file]);
    assert.equal(r.code, 0, `kubernetes-validate ${v} failed:\n${r.stdout}${r.stderr}`);
    const passed = (r.stdout + r.stderr).match(/ passed for resource /g) ?? [];
    assert.equal(passed.length, kinds, `expected ${kinds} resources validated against ${v}:\n${r.stdout}${r.stderr}`);
  }
}

/** `berth config` with the env the chart renders (secrets filled with stand-ins): Berth accepts every variable. */
async function berthAccepts(objects: K8sObject[], stand: Record<string, string>): Promise<string> {
  const data = makeTempDir('helm-data');
  try {
    const vars: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of env(objects).values()) {
      const ref = secretRef(e);
      vars[e.name] = ref ? (stand[`${ref.name}/${ref.key}`] ?? assert.fail(`no stand-in for secret ${ref.name}/${ref.key}`)) : e.value!;
    }
    vars.BERTH_DATA_DIR = data; // the pod's /var/lib/berth
    delete vars.BERTH_HTTPS_CERTIFICATE; // the mounted TLS pair is not here; its wiring is asserted on the manifest
    delete vars.BERTH_HTTPS_PRIVATE_KEY;
    delete vars.BERTH_HTTPS_REDIRECT_HTTP;
    const r = await run(NODE, [...NODE_FLAGS, join(ROOT, 'src', 'cli.ts'), 'config'], { env: vars, cwd: data });
    assert.equal(r.code, 0, `berth config refused the chart's environment:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /warning/i, `berth config warned about the chart's environment:\n${r.stderr}`);
    return r.stdout;
  } finally {
    removeDir(data);
  }
}

before(() => {
  for (const tool of [HELM, VALIDATE]) assert.ok(existsSync(tool), `${tool} missing: run scripts/ci-deps.sh`);
  dir = makeTempDir('helm');
});
after(() => removeDir(dir));

describe('helm chart', () => {
  test('defaults: ingress with a generated TLS certificate, SQLite on a PVC, one replica, probes on ping and health', async () => {
    const { file, objects } = await render({});
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'Ingress', 'PersistentVolumeClaim', 'Secret', 'Service']);
    await validate(file, 5);
    const dep = find(objects, 'Deployment');
    assert.equal(dep.spec.replicas, 1);
    assert.equal(dep.spec.strategy.type, 'Recreate');
    const pod = dep.spec.template.spec;
    assert.equal(pod.enableServiceLinks, false, 'service links would inject BERTH_PORT=tcp://…');
    assert.equal(pod.terminationGracePeriodSeconds, 60);
    const c = container(objects);
    assert.equal(c.livenessProbe.httpGet.path, '/api/v2.0/ping');
    assert.equal(c.readinessProbe.httpGet.path, '/api/v2.0/health');
    assert.equal(c.startupProbe.httpGet.path, '/api/v2.0/ping');
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      assert.equal(p.httpGet.port, 'http');
      assert.equal(p.httpGet.scheme, 'HTTP');
    }
    assert.deepEqual(c.lifecycle.preStop, { sleep: { seconds: 5 } });
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 5000 }]);
    const e = env(objects);
    assert.equal(e.get('BERTH_DATABASE_TYPE')?.value, 'sqlite');
    assert.equal(e.get('BERTH_HTTP_EXTERNAL_URL')?.value, 'https://core.berth.domain');
    assert.equal(e.get('BERTH_DATA_DIR')?.value, '/var/lib/berth');
    assert.ok(!e.has('BERTH_AUTH_ADMIN_INITIAL_PASSWORD') && !e.has('BERTH_SECURITY_SECRET_KEY'), 'no secrets were given');
    assert.deepEqual(c.volumeMounts.find((m: { name: string }) => m.name === 'data'), { name: 'data', mountPath: '/var/lib/berth' });
    assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName, 'reg-berth-data');
    const pvc = find(objects, 'PersistentVolumeClaim');
    assert.equal(pvc.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(pvc.spec.resources.requests.storage, '5Gi');
    const svc = find(objects, 'Service');
    assert.equal(svc.metadata.name, 'reg-berth');
    assert.equal(svc.spec.type, 'ClusterIP');
    const ing = find(objects, 'Ingress');
    assert.equal(ing.spec.rules[0].host, 'core.berth.domain');
    assert.equal(ing.spec.rules[0].http.paths[0].backend.service.name, 'reg-berth');
    assert.equal(ing.spec.tls[0].secretName, 'reg-berth-tls');
    const tls = find(objects, 'Secret', 'reg-berth-tls');
    assert.equal(tls.type, 'kubernetes.io/tls');
    assert.match(Buffer.from(tls.data!['tls.crt'], 'base64').toString(), /BEGIN CERTIFICATE/);
    await berthAccepts(objects, {});
  });

  test('ingress + TLS from an existing secret, admin password and secret key from values', async () => {
    const { file, objects } = await render({
      externalURL: 'https://registry.example.com',
      expose: { type: 'ingress', tls: { enabled: true, certSource: 'secret', secret: { secretName: 'registry-tls' } }, ingress: { className: 'nginx' } },
      harborAdminPassword: 'Chart-Admin-1234',
      secretKey: 'a-long-secret-passphrase',
      config: { 'registry.gc_grace': 60, 'auth.self_registration': 'true' },
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    });
    await validate(file, 5);
    assert.ok(!objects.some((o) => o.metadata.name === 'reg-berth-tls'), 'no generated certificate with certSource secret');
    const ing = find(objects, 'Ingress');
    assert.equal(ing.spec.ingressClassName, 'nginx');
    assert.deepEqual(ing.spec.tls, [{ secretName: 'registry-tls', hosts: ['registry.example.com'] }]);
    assert.equal(ing.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'], '0');
    const secret = find(objects, 'Secret', 'reg-berth');
    assert.equal(Buffer.from(secret.data!.HARBOR_ADMIN_PASSWORD, 'base64').toString(), 'Chart-Admin-1234');
    assert.equal(Buffer.from(secret.data!.secretKey, 'base64').toString(), 'a-long-secret-passphrase');
    const e = env(objects);
    assert.deepEqual(secretRef(e.get('BERTH_AUTH_ADMIN_INITIAL_PASSWORD')), { name: 'reg-berth', key: 'HARBOR_ADMIN_PASSWORD' });
    assert.deepEqual(secretRef(e.get('BERTH_SECURITY_SECRET_KEY')), { name: 'reg-berth', key: 'secretKey' });
    assert.equal(e.get('BERTH_REGISTRY_GC_GRACE')?.value, '60');
    assert.equal(e.get('BERTH_AUTH_SELF_REGISTRATION')?.value, 'true');
    assert.equal(e.get('BERTH_HTTP_EXTERNAL_URL')?.value, 'https://registry.example.com');
    assert.deepEqual(container(objects).resources.limits, { memory: '1Gi' });
    // the pods roll when a secret changes
    assert.match(find(objects, 'Deployment').spec.template.metadata.annotations['checksum/secret'], /^[0-9a-f]{64}$/);
    const shown = await berthAccepts(objects, { 'reg-berth/HARBOR_ADMIN_PASSWORD': 'Chart-Admin-1234', 'reg-berth/secretKey': 'a-long-secret-passphrase' });
    assert.doesNotMatch(shown, /Chart-Admin-1234|a-long-secret-passphrase/, 'berth config masks secrets');
  });

  test('external PostgreSQL + S3, every secret from existingSecrets: the chart renders no Secret of its own', async () => {
    const { file, objects } = await render({
      expose: { type: 'clusterIP', tls: { enabled: false } },
      database: { type: 'external', external: { existingSecret: 'berth-db', existingSecretKey: 'uri', maxConnections: 10 } },
      persistence: {
        enabled: false,
        imageChartStorage: {
          type: 's3',
          disableredirect: false,
          s3: { bucket: 'berth-blobs', region: 'eu-west-1', regionendpoint: 'http://minio.minio:9000', forcepathstyle: true, existingSecret: 'berth-s3', rootdirectory: '/berth' },
        },
      },
      existingSecretAdminPassword: 'berth-admin',
      existingSecretAdminPasswordKey: 'password',
      existingSecretSecretKey: 'berth-key',
      replicas: 2,
    });
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'Service'], 'no Secret, no PVC, no Ingress');
    await validate(file, 2);
    const dep = find(objects, 'Deployment');
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.strategy.type, 'RollingUpdate');
    assert.deepEqual(dep.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data'), { name: 'data', emptyDir: {} });
    const e = env(objects);
    assert.equal(e.get('BERTH_DATABASE_TYPE')?.value, 'postgres');
    assert.deepEqual(secretRef(e.get('BERTH_DATABASE_POSTGRES_URL')), { name: 'berth-db', key: 'uri' });
    assert.equal(e.get('BERTH_DATABASE_POSTGRES_MAX_CONNECTIONS')?.value, '10');
    assert.deepEqual(secretRef(e.get('BERTH_STORAGE_S3_ACCESS_KEY')), { name: 'berth-s3', key: 'REGISTRY_STORAGE_S3_ACCESSKEY' });
    assert.deepEqual(secretRef(e.get('BERTH_STORAGE_S3_SECRET_KEY')), { name: 'berth-s3', key: 'REGISTRY_STORAGE_S3_SECRETKEY' });
    assert.deepEqual(secretRef(e.get('BERTH_AUTH_ADMIN_INITIAL_PASSWORD')), { name: 'berth-admin', key: 'password' });
    assert.deepEqual(secretRef(e.get('BERTH_SECURITY_SECRET_KEY')), { name: 'berth-key', key: 'secretKey' });
    assert.equal(e.get('BERTH_STORAGE_TYPE')?.value, 's3');
    assert.equal(e.get('BERTH_STORAGE_S3_BUCKET')?.value, 'berth-blobs');
    assert.equal(e.get('BERTH_STORAGE_S3_REGION')?.value, 'eu-west-1');
    assert.equal(e.get('BERTH_STORAGE_S3_ENDPOINT')?.value, 'http://minio.minio:9000');
    assert.equal(e.get('BERTH_STORAGE_S3_FORCE_PATH_STYLE')?.value, 'true');
    assert.equal(e.get('BERTH_STORAGE_S3_ROOT_DIRECTORY')?.value, '/berth');
    assert.equal(e.get('BERTH_STORAGE_S3_REDIRECT')?.value, 'true', 'disableredirect false = redirects on');
    for (const [name, v] of e) if (/PASSWORD|SECRET|URL$|ACCESS_KEY/.test(name) && name !== 'BERTH_HTTP_EXTERNAL_URL') assert.equal(v.value, undefined, `${name} must come from a secret`);
    const shown = await berthAccepts(objects, {
      'berth-db/uri': 'postgres://berth:pw@127.0.0.1:1/berth',
      'berth-s3/REGISTRY_STORAGE_S3_ACCESSKEY': 'AKIAEXAMPLE',
      'berth-s3/REGISTRY_STORAGE_S3_SECRETKEY': 's3-secret-value',
      'berth-admin/password': 'Admin-From-Secret-1',
      'berth-key/secretKey': 'key-from-secret',
    });
    assert.doesNotMatch(shown, /s3-secret-value|Admin-From-Secret-1|key-from-secret/, 'berth config masks secrets');
  });

  test('nodePort with 3 replicas: Berth serves TLS itself, probes over HTTPS, database URL assembled with the password escaped', async () => {
    const { file, objects, notes } = await render({
      externalURL: 'https://node1.example.com:30003',
      expose: { type: 'nodePort', tls: { enabled: true, certSource: 'auto' } },
      database: { type: 'external', external: { host: 'pg.db.svc', username: 'berth', password: 'p@ss:w/rd', coreDatabase: 'berth', sslmode: 'require' } },
      persistence: { persistentVolumeClaim: { registry: { accessMode: 'ReadWriteMany', storageClass: 'nfs', size: '100Gi' } } },
      harborAdminPassword: 'Chart-Admin-1234',
      metrics: { enabled: true },
      replicas: 3,
    });
    await validate(file, 6);
    const dep = find(objects, 'Deployment');
    assert.equal(dep.spec.replicas, 3);
    assert.equal(dep.spec.strategy.type, 'RollingUpdate');
    const svc = find(objects, 'Service', 'reg-berth');
    assert.equal(svc.spec.type, 'NodePort');
    assert.deepEqual(
      svc.spec.ports.map((p: { name: string; port: number; nodePort: number; targetPort: string }) => [p.name, p.port, p.nodePort, p.targetPort]),
      [['http', 80, 30002, 'http'], ['https', 443, 30003, 'https']],
    );
    find(objects, 'Service', 'reg-berth-metrics');
    const c = container(objects);
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) assert.deepEqual([p.httpGet.port, p.httpGet.scheme], ['https', 'HTTPS']);
    const e = env(objects);
    assert.equal(e.get('BERTH_HTTPS_CERTIFICATE')?.value, '/etc/berth/tls/tls.crt');
    assert.equal(e.get('BERTH_HTTPS_PORT')?.value, '5443');
    assert.equal(e.get('BERTH_METRIC_ENABLED')?.value, 'true');
    assert.equal(dep.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls').secret.secretName, 'reg-berth-tls');
    const secret = find(objects, 'Secret', 'reg-berth');
    assert.equal(Buffer.from(secret.data!.DATABASE_URL, 'base64').toString(), 'postgres://berth:p%40ss%3Aw%2Frd@pg.db.svc:5432/berth?sslmode=require');
    assert.deepEqual(secretRef(e.get('BERTH_DATABASE_POSTGRES_URL')), { name: 'reg-berth', key: 'DATABASE_URL' });
    const pvc = find(objects, 'PersistentVolumeClaim');
    assert.deepEqual([pvc.spec.accessModes, pvc.spec.storageClassName], [['ReadWriteMany'], 'nfs']);
    assert.match(notes, /3 replica\(s\), database external/);
    await berthAccepts(objects, { 'reg-berth/DATABASE_URL': 'postgres://berth:p%40ss%3Aw%2Frd@pg.db.svc:5432/berth', 'reg-berth/HARBOR_ADMIN_PASSWORD': 'Chart-Admin-1234' });
  });

  test('the internal database forces one replica (SQLite allows one writer), and NOTES says so', async () => {
    const { file, objects, notes } = await render({ expose: { type: 'loadBalancer', tls: { enabled: false } }, replicas: 3 }, 'berth');
    await validate(file, 3);
    const dep = find(objects, 'Deployment');
    assert.equal(dep.spec.replicas, 1);
    assert.equal(dep.spec.strategy.type, 'Recreate');
    assert.equal(find(objects, 'Service').spec.type, 'LoadBalancer');
    // release "berth": the Service is named berth, so service links would have set BERTH_PORT; they are off
    assert.equal(find(objects, 'Service').metadata.name, 'berth');
    assert.equal(dep.spec.template.spec.enableServiceLinks, false);
    assert.match(notes, /replicas=3 was ignored/);
  });

  test('values that cannot work fail the render with a message naming the key', async () => {
    const cases: [object, RegExp][] = [
      [{ expose: { type: 'route' } }, /expose\.type must be ingress, clusterIP, nodePort or loadBalancer/],
      [{ database: { type: 'external', external: { host: 'pg' , username: 'u' } }, replicas: 3 }, /ReadWriteMany, or use S3/],
      [{ database: { type: 'external' } }, /database\.external\.username is required/],
      [{ persistence: { imageChartStorage: { type: 's3' } } }, /s3\.bucket is required/],
      [{ expose: { type: 'nodePort', tls: { certSource: 'none' } } }, /certSource none needs expose\.type ingress/],
      [{ expose: { tls: { certSource: 'secret' } } }, /expose\.tls\.secret\.secretName is required/],
    ];
    for (const [values, message] of cases) {
      const f = join(dir, `bad-${++n}.json`);
      writeFileSync(f, JSON.stringify(values));
      const r = await run(HELM, ['template', 'reg', CHART, '-f', f]);
      assert.notEqual(r.code, 0, `rendered ${JSON.stringify(values)}`);
      assert.match(r.stderr, message);
    }
  });
});
