// The one place that turns errors into HTTP responses: OCI error bodies on /v2, Harbor's envelope elsewhere.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, RegistryError } from '../errors.ts';

export interface HttpErrorLike {
  status: number;
  code: string;
  message: string;
  detail?: unknown;
  headers: Record<string, string>;
}

/** Normalises anything thrown (typed errors, Fastify's own errors, bugs) into status/code/message. */
export function normalizeError(err: unknown): HttpErrorLike {
  if (err instanceof RegistryError) return { status: err.status, code: err.code, message: err.message, detail: err.detail, headers: err.headers };
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message, headers: err.headers };
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status === 500) return { status, code: 'UNKNOWN', message: 'internal server error', headers: {} };
  const code = status === 413 ? 'SIZE_INVALID' : status === 404 ? 'NOT_FOUND' : status === 415 ? 'UNSUPPORTED' : 'BAD_REQUEST';
  return { status, code, message: e?.message ?? 'bad request', headers: {} };
}

export function sendOciError(reply: FastifyReply, err: unknown): FastifyReply {
  const n = normalizeError(err);
  for (const [k, v] of Object.entries(n.headers)) reply.header(k, v);
  const body: { code: string; message: string; detail?: unknown } = { code: n.code, message: n.message };
  if (n.detail !== undefined) body.detail = n.detail;
  return reply
    .code(n.status)
    .header('Content-Type', 'application/json; charset=utf-8')
    .header('Docker-Distribution-API-Version', 'registry/2.0')
    .send(JSON.stringify({ errors: [body] }));
}

export function sendHarborError(reply: FastifyReply, err: unknown): FastifyReply {
  const n = normalizeError(err);
  for (const [k, v] of Object.entries(n.headers)) reply.header(k, v);
  return reply
    .code(n.status)
    .header('Content-Type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ errors: [{ code: n.code, message: n.message }] }));
}

/** Logs what the client will not see: only unexpected (5xx) errors. */
export function logIfUnexpected(req: FastifyRequest, err: unknown): void {
  if (normalizeError(err).status < 500) return;
  // A client that hung up (or was cut off as too slow) is not a server fault: no error with a stack trace.
  if (clientWentAway(req, err)) req.log.debug({ code: (err as { code?: string }).code }, 'client went away');
  else req.log.error({ err }, 'request failed');
}

const GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function clientWentAway(req: FastifyRequest, err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return GONE_CODES.has(e?.code ?? '') || e?.message === 'aborted' || req.raw.socket?.destroyed === true;
}
