// GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference>.
import { RegistryError } from '../../errors.ts';
import type { Manifest } from '../../repositories/manifest-repository.ts';
import { ManifestService } from '../../services/registry/manifest-service.ts';
import { principalName } from '../../services/auth/principal.ts';
import { contentLength, proxyRedirected, refuseProxyPush, type V2Deps, type V2Handler, type V2Request } from './context.ts';
import { ORIGIN_HEADER, PUSH_TIME_HEADER } from '../../oci/replication-headers.ts';

function manifestHeaders(r: V2Request, m: Manifest) {
  return r.reply
    .code(200)
    .header('Content-Type', m.mediaType)
    .header('Content-Length', String(m.size))
    .header('Docker-Content-Digest', m.digest)
    .header('ETag', `"${m.digest}"`);
}

function remoteHeaders(r: V2Request, m: { bytes: Buffer; mediaType: string; digest: string }) {
  return r.reply
    .code(200)
    .header('Content-Type', m.mediaType)
    .header('Content-Length', String(m.bytes.length))
    .header('Docker-Content-Digest', m.digest)
    .header('ETag', `"${m.digest}"`);
}

export const headManifest: V2Handler = async (d, r) => {
  ManifestService.checkReference(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  if (project.registryId && d.proxy) {
    if (await proxyRedirected(d, r, project, 'manifests')) return r.reply;
    const a = await d.proxy.manifest(project, r.name, r.ref, { operator: principalName(r.caller.principal), project });
    if (a.kind === 'remote') return remoteHeaders(r, a).send();
  }
  const m = await d.manifests.get(r.name, r.ref, false);
  return manifestHeaders(r, m).send();
};

export const getManifest: V2Handler = async (d, r) => {
  ManifestService.checkReference(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  // A proxy-cache project: fresh from upstream when it is new or the tag moved, else (or when upstream fails) the cache.
  if (project.registryId && d.proxy) {
    if (await proxyRedirected(d, r, project, 'manifests')) return r.reply;
    const a = await d.proxy.manifest(project, r.name, r.ref, { operator: principalName(r.caller.principal), project });
    if (a.kind === 'remote') return remoteHeaders(r, a).send(a.bytes);
  }
  // The pull's PULL_ARTIFACT event (audit row, webhooks) is written with the batched pull-time flush: no wait here.
  // Harbor's order: content trust (412 PROJECTPOLICYVIOLATION), then prevent_vul, both before the pull is recorded.
  // Harbor's SkipPolicyChecking: cosign and notation read the manifest they are about to sign, so a caller with push
  // whose User-Agent names them passes; signatures themselves (tag-based sha256-….sig/.att or a referrer) too.
  const ua = String(r.req.headers['user-agent'] ?? '');
  const isSigningTool = async () => /cosign|notation/i.test(ua) && (await d.auth.actions(r.caller, r.name)).actions.has('push');
  const { pullPolicy, contentTrust } = d;
  const gate =
    pullPolicy || contentTrust
      ? async (m: Manifest) => {
          if (contentTrust) await contentTrust.checkPull(m, { project, reference: r.ref, isSigningTool });
          if (pullPolicy) {
            const signature = m.subjectDigest !== null || /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(r.ref);
            await pullPolicy.checkPull(project, m, { bypass: signature || (await isSigningTool()) });
          }
        }
      : undefined;
  const m = await d.manifests.get(r.name, r.ref, true, { operator: principalName(r.caller.principal), project, gate });
  return manifestHeaders(r, m).send(m.content);
};

/** Reads a manifest body, counting bytes as they arrive: nothing over the limit is ever buffered. */
async function readLimited(r: V2Request, limit: number): Promise<Buffer> {
  const tooLarge = () => new RegistryError('SIZE_INVALID', `manifest exceeds the ${limit} byte limit`, { status: 413 });
  const declared = contentLength(r.req);
  if (declared !== null && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r.req.raw as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw tooLarge();
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

/**
 * Berth-to-Berth replication side channel (docs/architecture.md, anti-entropy): the source's push time of the
 * tags (so "the later push wins" compares the same times on both sides; never in the future: the pusher can
 * move the tag anyway) and the instance the artifact was first pushed to (loop prevention). Malformed: ignored.
 */
function replicationHeaders(r: V2Request): { pushTime?: number; origin?: string } {
  const out: { pushTime?: number; origin?: string } = {};
  const t = Number(r.req.headers[PUSH_TIME_HEADER]);
  if (Number.isSafeInteger(t) && t > 0) out.pushTime = Math.min(t, Date.now());
  const o = r.req.headers[ORIGIN_HEADER];
  if (typeof o === 'string' && /^[0-9a-f]{32}$/.test(o)) out.origin = o;
  return out;
}

export const putManifest: V2Handler = async (d, r) => {
  ManifestService.checkReference(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull', 'push']);
  refuseProxyPush(project);
  const body = await readLimited(r, d.config.registry.maxManifestSize);
  const extraTags = r.query.getAll('tag');
  // The push's audit row and webhooks follow from the PUSH_ARTIFACT event the service writes in its transaction.
  const res = await d.manifests.put(r.name, project, r.ref, body, r.req.headers['content-type'], extraTags, principalName(r.caller.principal), replicationHeaders(r));
  r.reply
    .code(201)
    .header('Location', `/v2/${r.name}/manifests/${res.digest}`)
    .header('Docker-Content-Digest', res.digest)
    .header('Content-Length', '0');
  if (res.subject) r.reply.header('OCI-Subject', res.subject);
  // distribution-spec (main): echo the tags applied through `?tag=`.
  if (extraTags.length) r.reply.header('OCI-Tag', [...new Set(extraTags)].join(', '));
  return r.reply.send();
};

export const deleteManifest: V2Handler = async (d, r) => {
  ManifestService.checkReference(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['delete']);
  await d.manifests.remove(r.name, r.ref, project, principalName(r.caller.principal));
  return r.reply.code(202).header('Content-Length', '0').send();
};
