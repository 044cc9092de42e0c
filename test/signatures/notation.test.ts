// notation interop (issue #16): the real `notation` CLI signs an image in a private project of a started Berth (JWS
// and COSE; with its default referrers tag schema and with the OCI 1.1 Referrers API), `notation verify` passes
// against Berth with a trust policy written here, `notation list` shows the signatures, Berth's
// `GET .../artifacts/{ref}/accessories` lists them as `signature.notation`, and Berth's own verifier accepts
// what Berth serves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { createNotation, type Notation } from '../helpers/notation.ts';
import { notationVerifierFactory } from '../../src/services/signature/notation-verifier.ts';

const PROJECT = `notary-${randomBytes(3).toString('hex')}`;
const REPO = `${PROJECT}/app`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let berth: Berth;
let api: ApiClient;
let reg: RegistryClient;
let n: Notation;
let testPem: string;
let signed: { digest: string };
let unsigned: { digest: string };
const ref = (digest: string) => `${berth.host}/${REPO}@${digest}`;

async function referrerDigests(subject: string): Promise<string[]> {
  const r = await reg.request('GET', `/v2/${REPO}/referrers/${subject}`);
  assert.equal(r.status, 200, String(r));
  return r.json<{ manifests: { digest: string; artifactType?: string }[] }>()
    .manifests.filter((m) => m.artifactType === 'application/vnd.cncf.notary.signature')
    .map((m) => m.digest)
    .sort();
}

describe('notation against Berth', { timeout: 240_000 }, () => {
  before(async () => {
    berth = await startBerth();
    api = new ApiClient(berth.url, 'admin', berth.adminPassword);
    await api.createProject(PROJECT, false);
    reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    signed = await reg.pushImage(REPO, 'v1');
    unsigned = await reg.pushImage(REPO, 'v2');
    n = await createNotation({ username: 'admin', password: berth.adminPassword });
    testPem = await n.generateTestCert('berth-test', { isDefault: true });
    n.writeTrustPolicy(['berth-test']);
  });
  after(async () => {
    n?.stop();
    await berth?.stop();
  });

  test('notation sign (JWS with the referrers tag schema, COSE with the Referrers API), then notation verify passes', async () => {
    const jws = await n.run(['sign', '--insecure-registry', '--signature-format', 'jws', ref(signed.digest)]);
    assert.match(jws.stdout, /Successfully signed/);
    const cose = await n.run(['sign', '--insecure-registry', '--signature-format', 'cose', '--force-referrers-tag=false', ref(signed.digest)]);
    assert.match(cose.stdout, /Successfully signed/);
    assert.equal((await referrerDigests(signed.digest)).length, 2);
    const v = await n.run(['verify', '--insecure-registry', ref(signed.digest)]);
    assert.match(v.stdout, new RegExp(`Successfully verified signature for ${berth.host.replace(/[.]/g, '\\.')}/${REPO}@${signed.digest}`));
    // by tag too: notation resolves it to the digest through Berth
    const byTag = await n.run(['verify', '--insecure-registry', `${berth.host}/${REPO}:v1`]);
    assert.match(byTag.stdout, /Successfully verified signature/);
  });

  test('notation list shows both signatures, the ones Berth serves as referrers', async () => {
    const l = await n.run(['list', '--insecure-registry', ref(signed.digest)]);
    const listed = [...l.stdout.matchAll(/sha256:[0-9a-f]{64}/g)].map((m) => m[0]).filter((d) => d !== signed.digest);
    assert.deepEqual([...new Set(listed)].sort(), await referrerDigests(signed.digest));
    assert.match(l.stdout, /application\/vnd\.cncf\.notary\.signature/);
  });

  test('notation verify fails for the unsigned sibling and under a trust policy without the signing certificate', async () => {
    const none = await n.run(['verify', '--insecure-registry', ref(unsigned.digest)], { allowFail: true });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no signature is associated/i);
    const other = await createNotation({ username: 'admin', password: berth.adminPassword });
    try {
      await other.generateTestCert('other');
      other.writeTrustPolicy(['other']);
      const r = await other.run(['verify', '--insecure-registry', ref(signed.digest)], { allowFail: true });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /signature verification failed/i);
    } finally {
      other.stop();
    }
  });

  test('Berth lists the signatures as signature.notation accessories of the image, and its verifier accepts them', async () => {
    const r = await api.call('GET', `/projects/${PROJECT}/repositories/app/artifacts/${signed.digest}/accessories`);
    assert.equal(r.status, 200, r.text);
    const acc = r.json<{ digest: string; type: string; subject_artifact_digest: string; subject_artifact_repo: string }[]>();
    const sigDigests = await referrerDigests(signed.digest);
    assert.deepEqual(acc.map((a) => a.digest).sort(), sigDigests);
    for (const a of acc) {
      assert.equal(a.type, 'signature.notation');
      assert.equal(a.subject_artifact_digest, signed.digest);
      assert.equal(a.subject_artifact_repo, REPO);
    }
    const none = await api.call('GET', `/projects/${PROJECT}/repositories/app/artifacts/${unsigned.digest}/accessories`);
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.json(), []);

    const verifier = notationVerifierFactory();
    for (const d of sigDigests) {
      const m = await reg.getManifest(REPO, d, [OCI_MANIFEST]);
      const result = await verifier.verify(
        {
          subjectDigest: signed.digest,
          accessoryDigest: d,
          manifest: m.body,
          mediaType: OCI_MANIFEST,
          readBlob: async (digest) => (await reg.getBlob(REPO, digest)).body,
        },
        [{ id: 1, kind: 'notation', pem: testPem }],
      );
      assert.deepEqual(result, { ok: true, keyId: 1 }, d);
    }
  });
});
