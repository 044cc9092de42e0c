// The Notary Project verifier against envelopes made by the real `notation` CLI: images pushed to a started Berth,
// signed by notation (JWS and COSE, a self-signed test certificate and an openssl-made root → intermediate → leaf
// chain), the signature manifest and envelope read back through Berth's /v2 (referrers API, manifests, blobs).
// Tampered or re-targeted signatures are pushed to Berth as new signature manifests, as an attacker would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, randomBytes, sign as cryptoSign } from 'node:crypto';
import { startBerth, type Berth } from '../../../test/helpers/berth.ts';
import { RegistryClient, digestOf } from '../../../test/helpers/registry-client.ts';
import { addChainSigningKey, createNotation, issueLeaf, type CertChain, type Notation } from '../../../test/helpers/notation.ts';
import { NotationVerifier, notationVerifierFactory, COSE_MEDIA_TYPE, JWS_MEDIA_TYPE } from './notation-verifier.ts';
import { SignatureVerifiers, type SignatureEvidence, type TrustedKey } from './verifier.ts';
import { CborTagged, decodeCbor, encodeCbor, type CborEncodable, type CborValue } from './cbor.ts';

const REPO = `library/notary-${randomBytes(3).toString('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let berth: Berth;
let reg: RegistryClient;
let n: Notation;
let other: Notation;
let testPem: string;
let otherPem: string;
let chain: CertChain;
let imgA: { digest: string; bytes: Buffer };
let imgB: { digest: string; bytes: Buffer };
const sigs: Record<'jws' | 'cose' | 'chainJws' | 'chainCose' | 'expiring', string> = { jws: '', cose: '', chainJws: '', chainCose: '', expiring: '' };

const verifier = notationVerifierFactory();
const trusted = (pem: string, id = 1): TrustedKey => ({ id, kind: 'notation', pem });

async function referrers(subject: string): Promise<string[]> {
  const r = await reg.request('GET', `/v2/${REPO}/referrers/${subject}`);
  assert.equal(r.status, 200, String(r));
  return r.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest);
}

/** Signs through notation and returns the new signature manifest's digest (the referrer that was not there before). */
async function sign(subject: string, args: string[]): Promise<string> {
  const before = new Set(await referrers(subject));
  await n.run(['sign', '--insecure-registry', ...args, `${berth.host}/${REPO}@${subject}`]);
  const added = (await referrers(subject)).filter((d) => !before.has(d));
  assert.equal(added.length, 1, `one new referrer after notation sign ${args.join(' ')}`);
  return added[0];
}

/** The evidence Berth would hand the verifier, read through /v2. */
async function evidence(sigDigest: string, subjectDigest = imgA.digest): Promise<SignatureEvidence> {
  const m = await reg.getManifest(REPO, sigDigest, [OCI_MANIFEST]);
  assert.equal(m.status, 200, String(m));
  return {
    subjectDigest,
    accessoryDigest: sigDigest,
    manifest: m.body,
    mediaType: m.header('content-type')!,
    async readBlob(digest) {
      const b = await reg.getBlob(REPO, digest);
      assert.equal(b.status, 200, String(b));
      assert.equal(digestOf(b.body), digest);
      return b.body;
    },
  };
}

async function envelopeOf(sigDigest: string): Promise<{ bytes: Buffer; mediaType: string }> {
  const m = (await reg.getManifest(REPO, sigDigest, [OCI_MANIFEST])).json<{ layers: { digest: string; mediaType: string }[] }>();
  return { bytes: (await reg.getBlob(REPO, m.layers[0].digest)).body, mediaType: m.layers[0].mediaType };
}

/** Pushes a signature manifest (OCI 1.1 artifactType form) with this envelope for this subject; returns its digest. */
async function pushSignature(envelope: Buffer, mediaType: string, subject: { digest: string; bytes: Buffer }, layers?: object[]): Promise<string> {
  const config = await reg.pushBlob(REPO, Buffer.from('{}'));
  const layer = await reg.pushBlob(REPO, envelope);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.cncf.notary.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: config.size },
      layers: layers ?? [{ mediaType, digest: layer.digest, size: layer.size }],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length },
    }),
  );
  return (await reg.pushManifest(REPO, digestOf(manifest), manifest, OCI_MANIFEST)).digest;
}

const flipLast = (b: Buffer): Buffer => {
  const c = Buffer.from(b);
  c[c.length - 1] ^= 0x01;
  return c;
};

/** A JWS envelope with one part's decoded bytes changed. */
function tamperJws(env: Buffer, part: 'payload' | 'signature'): Buffer {
  const j = JSON.parse(env.toString('utf8'));
  const raw = Buffer.from(j[part], 'base64url');
  if (part === 'payload') {
    // one hex digit of the signed digest: the payload stays valid JSON naming the same kind of thing
    const s = raw.toString('utf8');
    const at = s.indexOf('sha256:') + 7;
    j.payload = Buffer.from(s.slice(0, at) + (s[at] === '0' ? '1' : '0') + s.slice(at + 1)).toString('base64url');
  } else j.signature = flipLast(raw).toString('base64url');
  return Buffer.from(JSON.stringify(j));
}

/** A COSE envelope with the payload or the signature changed by one byte, re-encoded around the same protected header. */
function tamperCose(env: Buffer, part: 'payload' | 'signature'): Buffer {
  const v = decodeCbor(env) as CborTagged;
  const [prot, unprot, payload, sig] = v.value as [Buffer, Map<number | string, unknown>, Buffer, Buffer];
  assert.ok(unprot instanceof Map);
  // Only the four items are rewritten: the unprotected header (the x5chain) is spliced back as its original bytes.
  const p = part === 'payload' ? flipLast(payload) : payload;
  const s = part === 'signature' ? flipLast(sig) : sig;
  const head = encodeCbor([prot]).subarray(1); // the protected bstr as encoded
  const tail = encodeCbor([p, s]).subarray(1);
  const unprotStart = 2 + head.length; // tag 18 (0xd2), array(4) (0x84), protected
  const unprotLen = env.length - unprotStart - encodeCbor([payload, sig]).subarray(1).length;
  return Buffer.concat([Buffer.from([0xd2, 0x84]), head, env.subarray(unprotStart, unprotStart + unprotLen), tail]);
}

describe('Notary Project signature verifier (envelopes by the real notation CLI, read through Berth /v2)', { timeout: 240_000 }, () => {
  before(async () => {
    berth = await startBerth();
    reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
    imgA = await reg.pushImage(REPO, 'a');
    imgB = await reg.pushImage(REPO, 'b');
    n = await createNotation({ username: 'admin', password: berth.adminPassword });
    other = await createNotation();
    testPem = await n.generateTestCert('berth-test', { isDefault: true });
    otherPem = await other.generateTestCert('other');
    chain = await addChainSigningKey(n, 'chain');
    sigs.jws = await sign(imgA.digest, ['--signature-format', 'jws']);
    sigs.cose = await sign(imgA.digest, ['--signature-format', 'cose']);
    sigs.chainJws = await sign(imgA.digest, ['--key', 'chain', '--signature-format', 'jws']);
    sigs.chainCose = await sign(imgA.digest, ['--key', 'chain', '--signature-format', 'cose']);
    sigs.expiring = await sign(imgA.digest, ['--signature-format', 'cose', '--expiry', '1m']);
  });
  after(async () => {
    n?.stop();
    other?.stop();
    await berth?.stop();
  });

  test('the registry of verifiers serves it for signature.notation', () => {
    const vs = new SignatureVerifiers([notationVerifierFactory]);
    assert.equal(vs.for('signature.notation')?.accessoryType, 'signature.notation');
    assert.deepEqual(vs.types, ['signature.notation']);
  });

  for (const fmt of ['jws', 'cose'] as const) {
    describe(`${fmt.toUpperCase()} envelope`, () => {
      test('verifies against the test certificate, and names the key that verified it', async () => {
        const env = await envelopeOf(sigs[fmt]);
        assert.equal(env.mediaType, fmt === 'jws' ? JWS_MEDIA_TYPE : COSE_MEDIA_TYPE);
        assert.deepEqual(await verifier.verify(await evidence(sigs[fmt]), [trusted(testPem, 7)]), { ok: true, keyId: 7 });
        assert.deepEqual(await verifier.verify(await evidence(sigs[fmt]), [trusted(otherPem, 1), trusted(testPem, 2)]), { ok: true, keyId: 2 });
      });

      test('fails against another generated certificate, with no key, and with the same PEM registered as a cosign key', async () => {
        const want = { ok: false, reason: 'certificate chain does not lead to a trusted certificate' };
        assert.deepEqual(await verifier.verify(await evidence(sigs[fmt]), [trusted(otherPem)]), want);
        assert.deepEqual(await verifier.verify(await evidence(sigs[fmt]), []), want);
        assert.deepEqual(await verifier.verify(await evidence(sigs[fmt]), [{ id: 3, kind: 'cosign', pem: testPem }]), want);
      });

      test('fails for another subject: asked about another digest, or the signature manifest re-pointed at another image', async () => {
        const asked = await verifier.verify(await evidence(sigs[fmt], imgB.digest), [trusted(testPem)]);
        assert.equal(asked.ok, false);
        assert.match((asked as { reason: string }).reason, /^signed for another artifact/);
        const env = await envelopeOf(sigs[fmt]);
        const moved = await pushSignature(env.bytes, env.mediaType, imgB);
        const r = await verifier.verify(await evidence(moved, imgB.digest), [trusted(testPem)]);
        assert.deepEqual(r, { ok: false, reason: `signed for another artifact: the signature names ${imgA.digest}, not ${imgB.digest}` });
      });

      test('fails when the envelope is tampered: one byte of the signature or of the payload', async () => {
        const env = await envelopeOf(sigs[fmt]);
        const tamper = fmt === 'jws' ? tamperJws : tamperCose;
        for (const part of ['signature', 'payload'] as const) {
          const bad = tamper(env.bytes, part);
          assert.notDeepEqual(bad, env.bytes);
          const d = await pushSignature(bad, env.mediaType, imgA);
          assert.deepEqual(await verifier.verify(await evidence(d), [trusted(testPem)]), { ok: false, reason: 'signature does not verify' }, part);
        }
      });

      test('fails once the signing certificate has expired (a clock two days on)', async () => {
        const later = new NotationVerifier({ now: () => new Date(Date.now() + 2 * 86_400_000) });
        const r = await later.verify(await evidence(sigs[fmt]), [trusted(testPem)]);
        assert.equal(r.ok, false);
        assert.match((r as { reason: string }).reason, /^certificate "berth-test" is not valid now .*expired or not yet valid$/);
      });
    });
  }

  describe('a root → intermediate → leaf chain (EC P-384 leaf: ES384)', () => {
    for (const which of ['chainJws', 'chainCose'] as const) {
      test(`${which === 'chainJws' ? 'JWS' : 'COSE'}: verifies with the root or the intermediate trusted, not with the test certificate`, async () => {
        assert.deepEqual(await verifier.verify(await evidence(sigs[which]), [trusted(chain.root, 11)]), { ok: true, keyId: 11 });
        assert.deepEqual(await verifier.verify(await evidence(sigs[which]), [trusted(chain.intermediate, 12)]), { ok: true, keyId: 12 });
        // a bundle of several certificates in one trusted PEM
        assert.deepEqual(await verifier.verify(await evidence(sigs[which]), [trusted(testPem + chain.root, 13)]), { ok: true, keyId: 13 });
        assert.deepEqual(await verifier.verify(await evidence(sigs[which]), [trusted(testPem)]), {
          ok: false,
          reason: 'certificate chain does not lead to a trusted certificate',
        });
      });
    }

    test('a chain with a certificate left out does not verify as a chain', async () => {
      // The JWS x5c without the intermediate: the leaf is not issued by the next certificate (the root).
      const env = JSON.parse((await envelopeOf(sigs.chainJws)).bytes.toString('utf8'));
      env.header.x5c = [env.header.x5c[0], env.header.x5c[2]];
      const d = await pushSignature(Buffer.from(JSON.stringify(env)), JWS_MEDIA_TYPE, imgA);
      const r = await verifier.verify(await evidence(d), [trusted(chain.root)]);
      assert.deepEqual(r, { ok: false, reason: 'the certificate chain in the signature is invalid: certificate "chain signer" is not issued by the next certificate in the chain' });
      // and without the root: the chain must end with a self-signed root
      env.header.x5c = [env.header.x5c[0]];
      const d2 = await pushSignature(Buffer.from(JSON.stringify(env)), JWS_MEDIA_TYPE, imgA);
      const r2 = await verifier.verify(await evidence(d2), [trusted(chain.leaf)]);
      assert.deepEqual(r2, { ok: false, reason: 'the certificate chain in the signature is invalid: certificate "chain signer" is not a self-signed root: the chain must end with its root certificate' });
    });
  });

  describe('COSE envelopes re-signed by hand with the chain\'s leaf key', () => {
    type Header = Map<string | number, CborEncodable>;
    /** notation's chain COSE_Sign1 with the protected (and unprotected) header edited, signed again (ES384). */
    async function resignedCose(edit: (prot: Header, unprot: Header) => void) {
      const v = decodeCbor((await envelopeOf(sigs.chainCose)).bytes) as CborTagged;
      const [protBytes, unprot, payload] = v.value as [Buffer, Header, Buffer];
      const prot = decodeCbor(protBytes) as Header;
      edit(prot, unprot);
      const newProt = encodeCbor(prot);
      const tbs = encodeCbor(['Signature1', newProt, Buffer.alloc(0), payload]);
      const sig = cryptoSign('sha384', tbs, { key: createPrivateKey(chain.leafKey), dsaEncoding: 'ieee-p1363' });
      const env = encodeCbor(new CborTagged(18, [newProt, unprot, payload, sig] as CborValue));
      return evidence(await pushSignature(env, COSE_MEDIA_TYPE, imgA));
    }
    const root = () => [trusted(chain.root)];
    const epoch = (ms: number) => new CborTagged(1, Math.floor(ms / 1000));

    test('re-encoded headers verify (the Sig_structure is rebuilt from the protected bytes as sent)', async () => {
      assert.deepEqual(await verifier.verify(await resignedCose(() => {}), root()), { ok: true, keyId: 1 });
    });
    test('an x5chain in the protected header is read too', async () => {
      const r = await resignedCose((prot, unprot) => {
        prot.set(33, unprot.get(33)!);
        unprot.delete(33);
      });
      assert.deepEqual(await verifier.verify(r, root()), { ok: true, keyId: 1 });
    });
    test('an expiry (tag 1) in the past is "expired"; an integer label in crit is an unsupported critical header', async () => {
      const past = await resignedCose((prot) => {
        prot.set('io.cncf.notary.expiry', epoch(Date.now() - 60_000));
        prot.set(2, [...(prot.get(2) as string[]), 'io.cncf.notary.expiry']);
      });
      const r = await verifier.verify(past, root());
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, /^the signature expired at /);
      const intCrit = await resignedCose((prot) => {
        prot.set(99, 'x');
        prot.set(2, [...(prot.get(2) as string[]), 99]);
      });
      assert.deepEqual(await verifier.verify(intCrit, root()), { ok: false, reason: 'unsupported critical header 99' });
    });
    test('an algorithm label other than the key\'s, and a signing time that is not a date, are refused', async () => {
      const ps = await resignedCose((prot) => prot.set(1, -37));
      assert.deepEqual(await verifier.verify(ps, root()), { ok: false, reason: "the signature's algorithm PS256 is not the signing certificate's (ES384)" });
      const t = await resignedCose((prot) => prot.set('io.cncf.notary.signingTime', 'yesterday'));
      assert.deepEqual(await verifier.verify(t, root()), { ok: false, reason: 'the header io.cncf.notary.signingTime is not an epoch-based date/time' });
    });
  });

  test('every algorithm the spec lists, signed by notation: PS256/384/512 (RSA 2048/3072/4096), ES256/384/512 (P-256/384/521)', async () => {
    const keys: [string, string, () => Promise<string>][] = [
      ['rsa3072', 'PS384', () => n.generateTestCert('rsa3072', { bits: 3072 })],
      ['rsa4096', 'PS512', () => n.generateTestCert('rsa4096', { bits: 4096 })],
      ['p256', 'ES256', async () => (await addChainSigningKey(n, 'p256', { curve: 'P-256' })).root],
      ['p521', 'ES512', async () => (await addChainSigningKey(n, 'p521', { curve: 'P-521' })).root],
    ];
    for (const [name, alg, make] of keys) {
      const pem = await make();
      for (const fmt of ['jws', 'cose']) {
        const d = await sign(imgA.digest, ['--key', name, '--signature-format', fmt]);
        const env = await envelopeOf(d);
        if (fmt === 'jws') assert.equal(JSON.parse(Buffer.from(JSON.parse(env.bytes.toString('utf8')).protected, 'base64url').toString('utf8')).alg, alg);
        assert.deepEqual(await verifier.verify(await evidence(d), [trusted(pem, 5)]), { ok: true, keyId: 5 }, `${name} ${fmt}`);
        assert.deepEqual(await verifier.verify(await evidence(d), [trusted(testPem, 5)]), { ok: false, reason: 'certificate chain does not lead to a trusted certificate' });
      }
    }
  });

  test('expiry (io.cncf.notary.expiry, notation sign --expiry 1m): valid now, "expired" two minutes on', async () => {
    assert.deepEqual(await verifier.verify(await evidence(sigs.expiring), [trusted(testPem)]), { ok: true, keyId: 1 });
    const later = new NotationVerifier({ now: () => new Date(Date.now() + 120_000) });
    const r = await later.verify(await evidence(sigs.expiring), [trusted(testPem)]);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /^the signature expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('critical headers: unknown, unmarked or missing critical headers are refused while parsing', async () => {
    // Changing the protected header breaks the signature; these rules are checked while parsing, ahead of it.
    const env = JSON.parse((await envelopeOf(sigs.jws)).bytes.toString('utf8'));
    const ph = JSON.parse(Buffer.from(env.protected, 'base64url').toString('utf8'));
    const withCrit = (extra: Record<string, unknown>, crit: string[]) =>
      Buffer.from(JSON.stringify({ ...env, protected: Buffer.from(JSON.stringify({ ...ph, ...extra, crit })).toString('base64url') }));
    const d1 = await pushSignature(withCrit({ 'com.example.policy': 'x' }, [...ph.crit, 'com.example.policy']), JWS_MEDIA_TYPE, imgA);
    assert.deepEqual(await verifier.verify(await evidence(d1), [trusted(testPem)]), { ok: false, reason: 'unsupported critical header "com.example.policy"' });
    const d2 = await pushSignature(withCrit({ 'io.cncf.notary.expiry': '2030-01-01T00:00:00Z' }, ph.crit), JWS_MEDIA_TYPE, imgA);
    assert.deepEqual(await verifier.verify(await evidence(d2), [trusted(testPem)]), {
      ok: false,
      reason: 'the header io.cncf.notary.expiry is present but not marked critical',
    });
    const d3 = await pushSignature(withCrit({}, []), JWS_MEDIA_TYPE, imgA);
    assert.deepEqual(await verifier.verify(await evidence(d3), [trusted(testPem)]), { ok: false, reason: 'the JWS crit header is missing or not a list of names' });
    // an accepted header changed: the signature no longer verifies
    const d4 = await pushSignature(withCrit({ 'io.cncf.notary.signingTime': '2026-01-01T00:00:00Z' }, ph.crit), JWS_MEDIA_TYPE, imgA);
    assert.deepEqual(await verifier.verify(await evidence(d4), [trusted(testPem)]), { ok: false, reason: 'signature does not verify' });
  });

  describe('JWS envelopes re-signed by hand with the chain\'s leaf key (valid signatures over other headers or payloads)', () => {
    /** notation's chain JWS with the protected header and/or payload replaced, signed again with the leaf key (ES384). */
    async function resigned(edit: {
      header?: (h: Record<string, unknown>) => Record<string, unknown>;
      payload?: (p: Record<string, unknown>) => unknown;
      hash?: string;
      /** another leaf (certificate and key PEM) in place of notation's */
      leaf?: { cert: string; key: string };
    }) {
      const env = JSON.parse((await envelopeOf(sigs.chainJws)).bytes.toString('utf8'));
      if (edit.leaf) env.header.x5c[0] = new X509Certificate(edit.leaf.cert).raw.toString('base64');
      const h = JSON.parse(Buffer.from(env.protected, 'base64url').toString('utf8'));
      const p = JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8'));
      env.protected = Buffer.from(JSON.stringify(edit.header ? edit.header(h) : h)).toString('base64url');
      env.payload = Buffer.from(JSON.stringify(edit.payload ? edit.payload(p) : p)).toString('base64url');
      const key = createPrivateKey(edit.leaf?.key ?? chain.leafKey);
      const sig = cryptoSign(edit.hash ?? 'sha384', Buffer.from(`${env.protected}.${env.payload}`), { key, dsaEncoding: 'ieee-p1363' });
      env.signature = sig.toString('base64url');
      return evidence(await pushSignature(Buffer.from(JSON.stringify(env)), JWS_MEDIA_TYPE, imgA));
    }
    const root = () => [trusted(chain.root)];

    test('unchanged headers re-signed verify (the hand signing is right)', async () => {
      assert.deepEqual(await verifier.verify(await resigned({}), root()), { ok: true, keyId: 1 });
    });
    test('a payload naming another artifact, validly signed, is "signed for another artifact"', async () => {
      const r = await verifier.verify(await resigned({ payload: (p) => ({ targetArtifact: { ...(p.targetArtifact as object), digest: imgB.digest } }) }), root());
      assert.deepEqual(r, { ok: false, reason: `signed for another artifact: the signature names ${imgB.digest}, not ${imgA.digest}` });
      const r2 = await verifier.verify(await resigned({ payload: (p) => ({ targetArtifact: { ...(p.targetArtifact as object), size: 1 } }) }), root());
      assert.deepEqual(r2, { ok: false, reason: `signed for another artifact: the signature names size 1, the subject has ${imgA.bytes.length}` });
    });
    test('an alg that is not the signing key\'s is refused (no algorithm substitution)', async () => {
      const r = await verifier.verify(await resigned({ header: (h) => ({ ...h, alg: 'ES256' }), hash: 'sha256' }), root());
      assert.deepEqual(r, { ok: false, reason: "the signature's algorithm ES256 is not the signing certificate's (ES384)" });
    });
    test('a verification plugin named as a critical header is refused: Berth runs no plugins', async () => {
      const plugin = 'io.cncf.notary.verificationPlugin';
      const r = await verifier.verify(await resigned({ header: (h) => ({ ...h, [plugin]: 'com.example.nv2', crit: [...(h.crit as string[]), plugin] }) }), root());
      assert.deepEqual(r, { ok: false, reason: 'the signature requires the verification plugin "com.example.nv2", and Berth runs no plugins' });
    });
    test('the signingAuthority scheme is refused: trusted certificates are a ca store', async () => {
      const r = await verifier.verify(
        await resigned({
          header: (h) => {
            const { ['io.cncf.notary.signingTime']: t, ...rest } = h;
            return { ...rest, 'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority', 'io.cncf.notary.authenticSigningTime': t, crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'] };
          },
        }),
        root(),
      );
      assert.deepEqual(r, {
        ok: false,
        reason: "signing scheme notary.x509.signingAuthority needs a signingAuthority trust store; Berth's trusted certificates are a ca trust store",
      });
    });
    test('a signing certificate that is not a code-signing certificate is refused (key usage, extended key usage, cA)', async () => {
      const cases: [string, string[], string][] = [
        ['no-ku', ['basicConstraints = CA:FALSE'], 'signs the artifact but has no critical key usage'],
        ['ku-not-critical', ['keyUsage = digitalSignature'], 'signs the artifact but has no critical key usage'],
        ['ku-keycertsign', ['keyUsage = critical, digitalSignature, keyCertSign'], 'signs the artifact but its key usage has keyCertSign'],
        ['eku-server', ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth'], 'signs the artifact but its extended key usage has serverAuth'],
        ['leaf-ca', ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, digitalSignature'], 'signs the artifact but is a CA certificate'],
      ];
      for (const [name, ext, why] of cases) {
        const r = await verifier.verify(await resigned({ leaf: await issueLeaf(chain, name, ext) }), root());
        assert.deepEqual(r, { ok: false, reason: `the certificate chain in the signature is invalid: certificate "${name}" ${why}` }, name);
      }
      // the same issuance with a proper code-signing profile verifies: the refusals are the extensions' doing
      const good = await issueLeaf(chain, 'good-leaf', ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = codeSigning']);
      const signingTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // the new leaf is younger than notation's signature
      const r = await verifier.verify(await resigned({ leaf: good, header: (h) => ({ ...h, 'io.cncf.notary.signingTime': signingTime }) }), root());
      assert.deepEqual(r, { ok: true, keyId: 1 });
    });

    test('a signing time outside the certificates\' validity is refused', async () => {
      const r = await verifier.verify(await resigned({ header: (h) => ({ ...h, 'io.cncf.notary.signingTime': '2020-01-01T00:00:00Z' }) }), root());
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, /^certificate "chain signer" was not valid at the signing time 2020-01-01T00:00:00Z/);
    });
  });

  test('malformed accessories are refused with a reason, never thrown', async () => {
    const garbageCose = await pushSignature(Buffer.from([0xd2, 0x84, 0x40, 0xa0, 0xff]), COSE_MEDIA_TYPE, imgA);
    const r1 = await verifier.verify(await evidence(garbageCose), [trusted(testPem)]);
    assert.equal(r1.ok, false);
    assert.match((r1 as { reason: string }).reason, /^the COSE envelope is not valid CBOR/);
    const notJson = await pushSignature(Buffer.from('{"payload":'), JWS_MEDIA_TYPE, imgA);
    assert.deepEqual(await verifier.verify(await evidence(notJson), [trusted(testPem)]), { ok: false, reason: 'the JWS envelope is not JSON' });
    const env = await envelopeOf(sigs.jws);
    const layer = { mediaType: JWS_MEDIA_TYPE, digest: digestOf(env.bytes), size: env.bytes.length };
    const twoLayers = await pushSignature(env.bytes, JWS_MEDIA_TYPE, imgA, [layer, layer]);
    assert.deepEqual(await verifier.verify(await evidence(twoLayers), [trusted(testPem)]), {
      ok: false,
      reason: 'a Notary Project signature manifest has exactly one layer, this one has 2',
    });
    const cosign = await pushSignature(env.bytes, 'application/vnd.dev.cosign.simplesigning.v1+json', imgA);
    assert.deepEqual(await verifier.verify(await evidence(cosign), [trusted(testPem)]), {
      ok: false,
      reason: 'unsupported signature envelope type "application/vnd.dev.cosign.simplesigning.v1+json"',
    });
  });
});

describe('CBOR codec', () => {
  test('round-trips the items a Sig_structure has, in the shortest form', () => {
    const b = encodeCbor(['Signature1', Buffer.from([1, 2]), Buffer.alloc(0), 1000, -7, 'x'.repeat(300)]);
    // array(6), text(10) "Signature1", bytes(2) 01 02, bytes(0), uint16 1000, -7, text(300) with a two-byte length
    assert.equal(b.subarray(0, 23).toString('hex'), '866a5369676e6174757265314201024019' + '03e826' + '79012c');
    assert.deepEqual(decodeCbor(b), ['Signature1', Buffer.from([1, 2]), Buffer.alloc(0), 1000, -7, 'x'.repeat(300)]);
  });
  test('refuses trailing bytes, truncation, indefinite lengths, duplicate keys and lengths beyond the input', () => {
    assert.throws(() => decodeCbor(Buffer.from([0x01, 0x02])), /after the CBOR item/);
    assert.throws(() => decodeCbor(Buffer.from([0x19, 0x01])), /truncated/);
    assert.throws(() => decodeCbor(Buffer.from([0x9f, 0xff])), /indefinite/);
    assert.throws(() => decodeCbor(Buffer.from([0xa2, 0x01, 0x01, 0x01, 0x02])), /duplicate/);
    assert.throws(() => decodeCbor(Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /beyond the input/);
    assert.throws(() => decodeCbor(Buffer.alloc(40, 0x81)), /nested too deeply/);
  });
  test('decodes tags, floats and simple values', () => {
    const t = decodeCbor(Buffer.from([0xc1, 0x1a, 0x6b, 0x16, 0xaf, 0xe6])) as CborTagged;
    assert.equal(t.tag, 1);
    assert.equal(t.value, 0x6b16afe6);
    assert.equal(decodeCbor(Buffer.from([0xf9, 0x3c, 0x00])), 1);
    assert.equal(decodeCbor(Buffer.from([0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])), 1.5);
    assert.deepEqual(decodeCbor(Buffer.from([0x83, 0xf4, 0xf5, 0xf6])), [false, true, null]);
  });
});
