// Coverage of Harbor's API: every operation of the swagger tags Berth claims to have (REQUIRED_TAGS) must be in
// the OpenAPI document a running Berth serves, and must answer with a real handler — not the router's generic
// 404 and not 405. Prints overall coverage (Harbor operations Berth serves / all of Harbor's), so a missing Harbor
// operation fails here instead of surfacing in a user's client.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { berthOperations, HarborSpec, pathParamNames, type Operation } from './harbor-spec.ts';

/** Harbor 2.15 swagger tags whose every operation Berth implements (issues #12, #13 and #15). */
const REQUIRED_TAGS = [
  'project', 'registry', 'projectMetadata', 'repository', 'artifact', 'label', 'member', 'user', 'usergroup', 'robot', 'quota',
  'gc', 'purge', 'auditlog', 'configure', 'systeminfo', 'health', 'statistic', 'search', 'ping', 'icon', 'permissions',
  'Ldap', 'jobservice', 'schedule', 'webhook', 'webhookjob', 'immutable', 'Retention', 'replication',
  'scanner', 'scan', 'scanAll', 'SystemCVEAllowlist',
];

const harbor = HarborSpec.load();
let berth: Berth;
let admin: ApiClient;
let served: Operation[];

before(async () => {
  berth = await startBerth();
  admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
  const r = await fetch(`${berth.url}/api/v2.0/openapi.json`);
  assert.equal(r.status, 200);
  served = berthOperations(await r.json());
});

after(async () => {
  await berth?.stop();
});

const key = (o: Operation) => `${o.method} ${o.shape}`;
const tagsOf = (o: Operation): string[] => harbor.doc.paths[o.path]?.[o.method.toLowerCase()]?.tags ?? [];
const required = () => harbor.operations.filter((o) => tagsOf(o).some((t) => REQUIRED_TAGS.includes(t)));

test('every operation of the claimed Harbor tags is in the served OpenAPI; overall coverage is printed', (t) => {
  const servedKeys = new Set(served.map(key));
  const covered = harbor.operations.filter((o) => servedKeys.has(key(o)));
  const line = `Harbor API coverage: ${covered.length} of ${harbor.operations.length} operations served (${((100 * covered.length) / harbor.operations.length).toFixed(1)} %)`;
  t.diagnostic(line);
  console.log(line);
  const perTag = new Map<string, [number, number]>();
  for (const o of harbor.operations) {
    for (const tag of tagsOf(o)) {
      const c = perTag.get(tag) ?? [0, 0];
      c[1]++;
      if (servedKeys.has(key(o))) c[0]++;
      perTag.set(tag, c);
    }
  }
  t.diagnostic([...perTag].map(([tag, [a, b]]) => `${tag} ${a}/${b}`).join(', '));
  const missing = required().filter((o) => !servedKeys.has(key(o))).map((o) => `${o.method} ${o.path} (${o.operationId}, ${tagsOf(o).join('/')})`);
  assert.deepEqual(missing, [], `${missing.length} operations of the claimed tags are missing from Berth's OpenAPI:\n${missing.join('\n')}`);
  for (const tag of REQUIRED_TAGS) assert.ok(perTag.has(tag), `tag ${tag} is not in Harbor's swagger`);
});

/** A value for a path parameter that names nothing that exists: the handler must say what is missing. */
function dummy(name: string): string {
  if (name === 'reference') return `sha256:${'0'.repeat(64)}`;
  if (/(^|_)(id|mid|gid)$/.test(name) || name === 'id') return '987654321';
  if (name === 'digest') return `sha256:${'0'.repeat(64)}`;
  return 'berth-coverage-none';
}

test('every operation of the claimed tags reaches a handler: no generic 404, no 405', async () => {
  const problems: string[] = [];
  for (const o of required()) {
    let url = o.path;
    for (const n of pathParamNames(o.path)) url = url.replace(`{${n}}`, encodeURIComponent(dummy(n)));
    // HEAD /projects?project_name= answers without a body: ask for a project that exists.
    if (o.method === 'HEAD') url += '?project_name=library';
    const body = ['POST', 'PUT', 'PATCH'].includes(o.method) ? {} : undefined;
    // DELETE and body-less calls carry the JSON content type as swagger-generated clients send them.
    const r = await admin.call(o.method, url, body, body === undefined ? { 'content-type': 'application/json' } : {});
    const where = `${o.method} ${o.path} (${o.operationId})`;
    if (r.status === 405) problems.push(`${where}: 405`);
    else if (r.status >= 500) problems.push(`${where}: ${r.status} ${r.text.slice(0, 200)}`);
    else if (r.status >= 400 && o.method !== 'HEAD') {
      let message: unknown;
      try {
        const e = r.json().errors;
        if (Array.isArray(e) && typeof e[0]?.code === 'string') message = e[0].message;
      } catch {
        message = undefined;
      }
      if (typeof message !== 'string') problems.push(`${where}: ${r.status} without Harbor's error envelope: ${r.text.slice(0, 200)}`);
      // The router's own answer for a route it does not have is the bare "not found"; a handler names what is missing.
      else if (r.status === 404 && (message === 'not found' || message === '')) problems.push(`${where}: 404 "${message}" — no handler, or one that does not say what is missing`);
    }
  }
  assert.deepEqual(problems, [], `${problems.length} operations answer as if they did not exist:\n${problems.join('\n')}`);
});
