// Read-only mode (Harbor's read_only setting, `src/server/middleware/readonly`): while it is on, every unsafe
// request is refused before authentication or body reading with 403 DENIED "The system is in read only mode. Any
// modification is prohibited." — as an OCI error on /v2, in Harbor's envelope elsewhere (each scope's error
// handler renders it). GET/HEAD/OPTIONS always pass, and so do the requests Harbor lets through: PUT
// /api/v2.0/configurations (so an admin can switch the mode off), logins and the token service.
import type { FastifyRequest } from 'fastify';
import { Errors } from '../errors.ts';
import { READ_ONLY_MESSAGE } from '../services/system/system-service.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const EXEMPT: readonly { method: string; path: RegExp }[] = [
  { method: 'PUT', path: /^\/api\/v2\.0\/configurations\/?$/ },
  { method: 'POST', path: /^\/c\/login\/?$/ },
  { method: 'POST', path: /^\/c\/userExists\/?$/ },
  { method: 'POST', path: /^\/c\/oidc\/onboard\/?$/ },
  { method: 'POST', path: /^\/service\/token\/?$/ },
];

/** An onRequest hook refusing writes while `isReadOnly()` says so. */
export function readOnlyHook(isReadOnly: () => Promise<boolean>) {
  return async (req: FastifyRequest): Promise<void> => {
    if (SAFE.has(req.method)) return;
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).replace(/\/{2,}/g, '/');
    if (EXEMPT.some((e) => e.method === req.method && e.path.test(path))) return;
    if (await isReadOnly()) throw Errors.denied(READ_ONLY_MESSAGE);
  };
}
