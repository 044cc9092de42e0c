import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import type { BlobService } from '../../services/registry/blob-service.ts';
import type { ManifestService } from '../../services/registry/manifest-service.ts';
import type { UploadService } from '../../services/registry/upload-service.ts';
import type { ProxyCacheService } from '../../services/proxy/proxy-cache-service.ts';
import { Errors } from '../../errors.ts';
import type { Project } from '../../repositories/project-repository.ts';
import type { ContentTrustService } from '../../services/signature/content-trust.ts';
import type { Caller, V2Auth } from './auth.ts';
import type { ScanService } from '../../services/scan/scan-service.ts';

export interface V2Deps {
  config: Config;
  auth: V2Auth;
  blobs: BlobService;
  uploads: UploadService;
  /** Raises the push, pull and delete events (audit log, webhooks) itself: handlers record nothing. */
  manifests: ManifestService;
  /** Pull-through for proxy-cache projects (absent: such projects serve only what they hold). */
  proxy?: ProxyCacheService;
  /** Project pull policies (prevent_vul) checked on a manifest GET; absent in tests that need none. */
  pullPolicy?: Pick<ScanService, 'checkPull'>;
  /** Refuses manifest pulls a project's signature policy does not allow (absent: no policy is enforced). */
  contentTrust?: ContentTrustService;
}

/** Harbor's DisableBlobAndManifestUploadMiddleware: nothing is pushed into a proxy-cache project but by the proxy. */
export function refuseProxyPush(project: Project): void {
  if (project.registryId) throw Errors.denied(`can not push artifact to a proxy project: ${project.name}`);
}

/**
 * Harbor's Docker Hub `library/` mapping: a 301 to the same request under `<project>/library/<name>`; true when
 * the reply was sent.
 */
export async function proxyRedirected(d: V2Deps, r: V2Request, project: Project, kind: 'manifests' | 'blobs'): Promise<boolean> {
  if (!project.registryId || !d.proxy) return false;
  const to = await d.proxy.libraryRedirect(project, r.name);
  if (!to) return false;
  await r.reply.code(301).header('Location', `/v2/${to}/${kind}/${r.ref}`).header('Content-Length', '0').send();
  return true;
}

/** One parsed /v2 request, as handlers see it. */
export interface V2Request {
  req: FastifyRequest;
  reply: FastifyReply;
  caller: Caller;
  /** Repository name (validated). */
  name: string;
  /** The path part after the name (a digest, tag or upload id), already URL-decoded. */
  ref: string;
  query: URLSearchParams;
}

export type V2Handler = (deps: V2Deps, r: V2Request) => Promise<unknown>;

export function contentLength(req: FastifyRequest): number | null {
  const v = req.headers['content-length'];
  if (v === undefined) return null;
  if (!/^\d+$/.test(v)) return null;
  return Number(v);
}

/** The request body as an async iterable of Buffers (never buffered whole). */
export function bodyOf(req: FastifyRequest): AsyncIterable<Buffer> {
  return req.raw as AsyncIterable<Buffer>;
}
