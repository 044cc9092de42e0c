import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import type { BlobService } from '../../services/registry/blob-service.ts';
import type { ManifestService } from '../../services/registry/manifest-service.ts';
import type { UploadService } from '../../services/registry/upload-service.ts';
import type { ContentTrustService } from '../../services/signature/content-trust.ts';
import type { Caller, V2Auth } from './auth.ts';

export interface V2Deps {
  config: Config;
  auth: V2Auth;
  blobs: BlobService;
  uploads: UploadService;
  /** Raises the push, pull and delete events (audit log, webhooks) itself: handlers record nothing. */
  manifests: ManifestService;
  /** Refuses manifest pulls a project's signature policy does not allow (absent: no policy is enforced). */
  contentTrust?: ContentTrustService;
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
