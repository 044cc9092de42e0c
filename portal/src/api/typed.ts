// openapi-fetch client typed by schema.d.ts, which scripts/gen-portal-types.ts generates from Berth's own
// OpenAPI document (npm run gen:portal-types): request bodies, parameters and responses are checked against
// the server's route schemas at build time. Same session, CSRF and error handling as client.ts.
import createClient from 'openapi-fetch';
import type { paths } from './schema.d.ts';
import { API, ApiError, authHeaders, noteResponse } from './client.ts';
import type { Errors } from './types.ts';

export const typed = createClient<paths>({ baseUrl: API, credentials: 'same-origin' });

typed.use({
  onRequest({ request }) {
    for (const [k, v] of Object.entries(authHeaders(request.method))) request.headers.set(k, v);
    return request;
  },
  onResponse({ response }) {
    noteResponse(response);
    return undefined;
  },
});

/** The data of a typed call, or an ApiError carrying Harbor's errors[0].message. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await p;
  if (!r.response.ok) {
    const e = (r.error ?? {}) as Errors;
    throw new ApiError(r.response.status, e.errors?.[0]?.code ?? String(r.response.status), e.errors?.[0]?.message ?? (r.response.statusText || `HTTP ${r.response.status}`));
  }
  return r.data as T;
}
