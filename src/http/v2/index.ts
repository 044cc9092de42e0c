// The /v2 registry protocol. Repository names contain slashes, so one wildcard route dispatches on the path
// suffix. Bodies are never parsed by Fastify here: handlers stream request.raw.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../../errors.ts';
import { validateName } from '../../oci/digest.ts';
import { logIfUnexpected, sendOciError } from '../errors.ts';
import { deleteBlob, getBlob, headBlob } from './blobs.ts';
import type { V2Deps, V2Handler } from './context.ts';
import { catalog, listTags, referrers } from './listing.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifests.ts';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './uploads.ts';

// Unread request bodies up to this size (and this time) are discarded before an error response is sent.
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

/** Reads and discards the rest of a request body; false when it is too large, too slow or already broken. */
function discardBody(req: IncomingMessage): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (req.destroyed || declared > DRAIN_MAX_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    let n = 0;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      if (!ok) req.pause();
      resolve(ok);
    };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > DRAIN_MAX_BYTES) done(false);
    };
    const onEnd = () => done(true);
    const onFail = () => done(false);
    const timer = setTimeout(onFail, DRAIN_MAX_MS);
    req.on('data', onData).once('end', onEnd).once('error', onFail).once('close', onFail);
    req.resume();
  });
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
interface Route {
  re: RegExp;
  methods: Partial<Record<Method, V2Handler>>;
  /** Harbor's metric operation id of the endpoint (harbor_core_http_request_total{operation}). */
  op: string;
}

// Order matters: upload paths before blob paths. `(.+)` is the repository name, validated afterwards.
const ROUTES: Route[] = [
  { re: /^(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload }, op: 'v2_blob_upload' },
  { re: /^(.+)\/blobs\/uploads\/([^/]+)$/, methods: { PATCH: patchUpload, PUT: finishUpload, GET: uploadStatus, DELETE: cancelUpload }, op: 'v2_blob_upload' },
  { re: /^(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: headBlob, DELETE: deleteBlob }, op: 'v2_blob' },
  { re: /^(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deleteManifest }, op: 'v2_manifest' },
  { re: /^(.+)\/tags\/list$/, methods: { GET: listTags }, op: 'v2_tags' },
  { re: /^(.+)\/referrers\/([^/]+)$/, methods: { GET: referrers }, op: 'v2_referrers' },
];

/** Harbor's metric operation of a /v2 request path (no query): v2_catalog, v2_manifest, ..., else v2_others. */
export function registryOperation(path: string): string {
  const rest = path.slice('/v2/'.length);
  if (rest === '_catalog') return 'v2_catalog';
  return ROUTES.find((r) => r.re.test(rest))?.op ?? 'v2_others';
}

export async function v2Routes(app: FastifyInstance, deps: V2Deps): Promise<void> {
  // Leave every body unread: blobs stream, manifests are read with a byte limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  app.addHook('onSend', async (_req, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  });

  app.setErrorHandler(async (err, req, reply) => {
    logIfUnexpected(req, err);
    // An unread request body would otherwise be drained without bound after the response. A small rest is read
    // and discarded first, so a client still sending can read this error (401, 413, 416) instead of a reset;
    // anything larger or slower gets the connection closed.
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    // (HTTP/2 has no Connection header: the stream is reset by Node when the response ends early.)
    if (hasBody && !req.raw.readableEnded && !(await discardBody(req.raw)) && req.raw.httpVersionMajor < 2) reply.header('Connection', 'close');
    return sendOciError(reply, err);
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw Errors.nameInvalid(rawPath, 'malformed URL encoding');
    }
    const caller = await deps.auth.identify(req);
    const rest = path.slice('/v2/'.length);
    const method = req.method as Method;
    if (rest === '') {
      if (method !== 'GET' && method !== 'HEAD') throw Errors.unsupported();
      deps.auth.requireIdentity(req, caller);
      return reply.code(200).header('Content-Type', 'application/json').send('{}');
    }
    if (rest === '_catalog') {
      if (method !== 'GET') throw Errors.unsupported();
      return catalog(deps, { req, reply, caller, name: '', ref: '', query });
    }
    for (const route of ROUTES) {
      const m = route.re.exec(rest);
      if (!m) continue;
      const handler = route.methods[method];
      if (!handler) throw Errors.unsupported(`${method} is not supported here`);
      validateName(m[1]);
      return handler(deps, { req, reply, caller, name: m[1], ref: m[2] ?? '', query });
    }
    throw Errors.nameInvalid(rest, 'unknown registry endpoint');
  };
  app.route({ method: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'], url: '/v2/*', handler: handle });
  app.route({ method: ['GET', 'HEAD'], url: '/v2', handler: handle });
}
