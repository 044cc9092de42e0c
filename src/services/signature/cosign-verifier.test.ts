// The cosign verifier on signatures made here with Node's crypto in cosign's format (simple-signing payload as a
// layer, its signature base64 in the layer annotation), for every key type cosign supports; the real cosign is
// exercised end to end in test/signatures/cosign.test.ts.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { CosignVerifier, COSIGN_SIGNATURE_ANNOTATION, COSIGN_SIMPLESIGNING } from './cosign-verifier.ts';
import type { SignatureEvidence, TrustedKey } from './verifier.ts';

const digestOf = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const SUBJECT = digestOf(Buffer.from('the image'));
const OTHER = digestOf(Buffer.from('another image'));

function payloadFor(digest: string, type = 'cosign container image signature'): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'h/p/r' }, image: { 'docker-manifest-digest': digest }, type }, optional: null }));
}
function signWith(key: KeyObject, data: Buffer): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const alg = key.asymmetricKeyType === 'ed25519' ? null : curve === 'secp384r1' ? 'sha384' : 'sha256';
  return sign(alg, data, key).toString('base64');
}
/** A `.sig` manifest with one layer per (payload, signature). */
function evidence(layers: { payload: Buffer; sig: string | undefined }[], subject = SUBJECT): SignatureEvidence {
  const blobs = new Map(layers.map((l) => [digestOf(l.payload), l.payload]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{}')), size: 2 },
      layers: layers.map((l) => ({ mediaType: COSIGN_SIMPLESIGNING, digest: digestOf(l.payload), size: l.payload.length, annotations: l.sig === undefined ? {} : { [COSIGN_SIGNATURE_ANNOTATION]: l.sig } })),
    }),
  );
  return {
    subjectDigest: subject,
    accessoryDigest: digestOf(manifest),
    manifest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    readBlob: async (d) => {
      const b = blobs.get(d);
      if (!b) throw new Error('no such blob');
      return b;
    },
  };
}
function pair(type: 'ec256' | 'ec384' | 'ed25519' | 'rsa') {
  const kp =
    type === 'ec256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : type === 'ec384'
        ? generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        : type === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { priv: kp.privateKey, pem: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
const trusted = (id: number, pem: string): TrustedKey => ({ id, kind: 'cosign', pem });

test('a signature verifies with its key, for ECDSA P-256 and P-384, Ed25519 and RSA', async () => {
  const v = new CosignVerifier();
  for (const t of ['ec256', 'ec384', 'ed25519', 'rsa'] as const) {
    const k = pair(t);
    const p = payloadFor(SUBJECT);
    assert.deepEqual(await v.verify(evidence([{ payload: p, sig: signWith(k.priv, p) }]), [trusted(7, k.pem)]), { ok: true, keyId: 7 }, t);
  }
});

test('another key, another digest, another payload type, a missing or broken signature: refused with the reason', async () => {
  const v = new CosignVerifier();
  const a = pair('ec256');
  const b = pair('ec256');
  const p = payloadFor(SUBJECT);
  const byB = await v.verify(evidence([{ payload: p, sig: signWith(b.priv, p) }]), [trusted(1, a.pem)]);
  assert.deepEqual(byB, { ok: false, reason: 'the signature does not verify with any trusted cosign key' });
  const other = payloadFor(OTHER);
  const named = await v.verify(evidence([{ payload: other, sig: signWith(a.priv, other) }]), [trusted(1, a.pem)]);
  assert.deepEqual(named, { ok: false, reason: `the signature payload names ${OTHER}, not ${SUBJECT}` });
  const att = payloadFor(SUBJECT, 'https://in-toto.io/Statement/v0.1');
  assert.equal((await v.verify(evidence([{ payload: att, sig: signWith(a.priv, att) }]), [trusted(1, a.pem)])).ok, false);
  assert.equal((await v.verify(evidence([{ payload: p, sig: undefined }]), [trusted(1, a.pem)])).ok, false);
  assert.equal((await v.verify(evidence([{ payload: p, sig: 'bm90IGEgc2lnbmF0dXJl' }]), [trusted(1, a.pem)])).ok, false);
  // a signature over other bytes than the stored payload (the payload was altered after signing)
  const altered = Buffer.from(p.toString().replace('h/p/r', 'h/p/x'));
  assert.equal((await v.verify(evidence([{ payload: altered, sig: signWith(a.priv, p) }]), [trusted(1, a.pem)])).ok, false);
  // no cosign key at all, and a notation certificate is not a cosign key
  assert.equal((await v.verify(evidence([{ payload: p, sig: signWith(a.priv, p) }]), [{ id: 2, kind: 'notation', pem: a.pem }])).ok, false);
});

test('several layers (cosign appends one per signing): any layer verifying with any trusted key passes', async () => {
  const v = new CosignVerifier();
  const a = pair('ec256');
  const b = pair('ed25519');
  const p = payloadFor(SUBJECT);
  const other = payloadFor(OTHER);
  const ev = evidence([
    { payload: other, sig: signWith(a.priv, other) },
    { payload: Buffer.concat([p, Buffer.from('\n')]), sig: signWith(a.priv, Buffer.concat([p, Buffer.from('\n')])) },
  ]);
  assert.deepEqual(await v.verify(ev, [trusted(3, b.pem), trusted(4, a.pem)]), { ok: true, keyId: 4 });
  // a layer for this digest by an untrusted key says so, not "names another digest"
  const mixed = evidence([
    { payload: other, sig: signWith(a.priv, other) },
    { payload: p, sig: signWith(b.priv, p) },
  ]);
  assert.deepEqual(await v.verify(mixed, [trusted(4, a.pem)]), { ok: false, reason: 'the signature does not verify with any trusted cosign key' });
});

test('a manifest that is not a cosign signature is refused, not thrown', async () => {
  const v = new CosignVerifier();
  const a = pair('ec256');
  const bad: SignatureEvidence = { subjectDigest: SUBJECT, accessoryDigest: OTHER, manifest: Buffer.from('{"layers":[{"mediaType":"application/octet-stream","digest":"sha256:00"}]}'), mediaType: 'x', readBlob: async () => Buffer.alloc(0) };
  assert.equal((await v.verify(bad, [trusted(1, a.pem)])).ok, false);
  assert.equal((await v.verify({ ...bad, manifest: Buffer.from('not json') }, [trusted(1, a.pem)])).ok, false);
});
