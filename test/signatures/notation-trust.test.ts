// Content trust with notation (issue #16): under `enable_content_trust` an image without a notation signature is
// refused (412, Harbor's message); signing still works (notation reads the manifest it signs); once the project
// registers a notation certificate as a trusted key, only signatures chaining to it pass — a signature by another
// test certificate is refused with the verifier's reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../helpers/api-client.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { createNotation, type Notation } from '../helpers/notation.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { assertNoBerthErrors } from '../clients/lib.ts';

const PROJECT = `nt-${randomBytes(3).toString('hex')}`;
const REPO = `${PROJECT}/app`;

describe('notation content trust against Berth', { timeout: 240_000 }, () => {
  let berth: Berth;
  let api: ApiClient;
  let reg: RegistryClient;
  let n: Notation;
  let trustedPem: string;
  const ref = (digest: string) => `${berth.host}/${REPO}@${digest}`;
  const pull = async (reference: string) => {
    const r = await reg.getManifest(REPO, reference);
    if (r.status === 200) return { status: 200 };
    const e = r.json<{ errors: { code: string; message: string }[] }>().errors[0];
    return { status: r.status, code: e.code, message: e.message };
  };

  before(async () => {
    berth = await startBerth();
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await api.createProject(PROJECT, false);
    reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    n = await createNotation({ username: 'admin', password: berth.adminPassword });
    trustedPem = await n.generateTestCert('release', { isDefault: true });
    await n.generateTestCert('other');
  });
  after(async () => {
    n?.stop();
    await berth?.stop();
    assertNoBerthErrors(berth);
  });

  test('unsigned refused with Harbor\'s message; notation signs under the policy; a trusted certificate restricts who may sign', async () => {
    const a = await reg.pushImage(REPO, 'a');
    const b = await reg.pushImage(REPO, 'b');
    const r = await api.call('PUT', `/projects/${PROJECT}/metadatas/enable_content_trust`, { enable_content_trust: 'true' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await pull('a'), { status: 412, code: 'PROJECTPOLICYVIOLATION', message: 'The image is not signed by notation.' });
    // notation reads the unsigned manifest it signs (push rights + its User-Agent)
    await n.run(['sign', '--insecure-registry', ref(a.digest)]);
    await n.run(['sign', '--insecure-registry', '--key', 'other', ref(b.digest)]);
    assert.deepEqual(await pull('a'), { status: 200 });
    assert.deepEqual(await pull('b'), { status: 200 }, 'without trusted keys any notation signature passes (Harbor)');
    const k = await api.call('POST', `/projects/${PROJECT}/trusted-keys`, { name: 'release', kind: 'notation', pem: trustedPem });
    assert.equal(k.status, 201, k.text);
    assert.deepEqual(await pull('a'), { status: 200 });
    const refused = await pull('b');
    assert.equal(refused.status, 412);
    assert.equal(refused.code, 'PROJECTPOLICYVIOLATION');
    assert.match(refused.message!, /^The image is not signed by notation with a trusted key: /);
  });
});
