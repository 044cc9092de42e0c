// Blob uploads: POST (monolithic ?digest=, mount, or open a session), PATCH (streamed or chunked), GET status,
// PUT (finish, optionally with the last chunk) and DELETE (cancel).
import { Errors } from '../../errors.ts';
import { parseAlgorithm, parseDigest } from '../../oci/digest.ts';
import { principalName } from '../../services/auth/principal.ts';
import type { Upload } from '../../repositories/upload-repository.ts';
import { parseContentRange } from '../range.ts';
import { bodyOf, contentLength, refuseProxyPush, type V2Handler, type V2Request } from './context.ts';

const location = (u: Upload) => `/v2/${u.repositoryName}/blobs/uploads/${u.id}`;
const rangeOf = (u: Upload) => (u.size > 0 ? `0-${u.size - 1}` : '0-0');

function sessionAccepted(r: V2Request, u: Upload, status: number) {
  return r.reply
    .code(status)
    .header('Location', location(u))
    .header('Range', rangeOf(u))
    .header('Docker-Upload-UUID', u.id)
    .header('Content-Length', '0')
    .send();
}

function blobCreated(r: V2Request, digest: string) {
  return r.reply
    .code(201)
    .header('Location', `/v2/${r.name}/blobs/${digest}`)
    .header('Docker-Content-Digest', digest)
    .header('Content-Length', '0')
    .send();
}

/** Whether the request carries a body (Content-Length > 0, or chunked transfer encoding). */
const hasBody = (r: V2Request) => (contentLength(r.req) ?? 0) > 0 || /chunked/i.test(String(r.req.headers['transfer-encoding'] ?? ''));

export const startUpload: V2Handler = async (d, r) => {
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull', 'push']);
  refuseProxyPush(project);
  const mount = r.query.get('mount');
  if (mount) {
    parseDigest(mount);
    const from = r.query.get('from');
    // Mount only from repositories the caller may pull (no cross-repo leakage by digest).
    const candidates = from ? [from] : await d.blobs.listRepositoriesWithBlob(mount);
    const sources: string[] = [];
    for (const c of candidates) if (await d.auth.canPullMountSource(r.caller, c)) sources.push(c);
    if ((await d.blobs.mount(r.name, project.id, mount, sources)) !== null) return blobCreated(r, mount);
  }
  const digest = r.query.get('digest');
  const algorithm = digest ? parseDigest(digest).algorithm : parseAlgorithm(r.query.get('digest-algorithm') ?? undefined);
  const u = await d.uploads.start(r.name, principalName(r.caller.principal), algorithm);
  if (digest !== null) {
    try {
      if (hasBody(r)) await d.uploads.append(u, bodyOf(r.req), null, contentLength(r.req));
      const done = await d.uploads.complete(u, digest, project.id);
      return blobCreated(r, done.digest);
    } catch (e) {
      await d.uploads.cancel(u).catch(() => {});
      throw e;
    }
  }
  r.reply.header('OCI-Chunk-Min-Length', String(d.uploads.minChunkLength));
  return sessionAccepted(r, u, 202);
};

async function session(d: Parameters<V2Handler>[0], r: V2Request, action: 'pull' | 'push') {
  const project = await d.auth.authorize(r.req, r.caller, r.name, action === 'push' ? ['pull', 'push'] : ['pull']);
  const u = await d.uploads.find(r.name, r.ref, principalName(r.caller.principal));
  return { project, u };
}

export const patchUpload: V2Handler = async (d, r) => {
  const { u } = await session(d, r, 'push');
  const range = parseContentRange(r.req.headers['content-range'] as string | undefined);
  await d.uploads.append(u, bodyOf(r.req), range, contentLength(r.req));
  return sessionAccepted(r, u, 202);
};

export const uploadStatus: V2Handler = async (d, r) => {
  const { u } = await session(d, r, 'push');
  return sessionAccepted(r, u, 204);
};

export const finishUpload: V2Handler = async (d, r) => {
  const { project, u } = await session(d, r, 'push');
  const digest = r.query.get('digest');
  if (!digest) throw Errors.digestInvalid('digest query parameter is required');
  parseDigest(digest);
  if (hasBody(r)) {
    const range = parseContentRange(r.req.headers['content-range'] as string | undefined);
    await d.uploads.append(u, bodyOf(r.req), range, contentLength(r.req));
  }
  const done = await d.uploads.complete(u, digest, project.id);
  return blobCreated(r, done.digest);
};

export const cancelUpload: V2Handler = async (d, r) => {
  const { u } = await session(d, r, 'push');
  await d.uploads.cancel(u);
  return r.reply.code(204).send();
};
