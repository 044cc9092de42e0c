// The portal's only way to the server: /api/v2.0 and /c/*. Same-origin cookie session (POST /c/login sets it),
// the CSRF token Harbor sends in X-Harbor-CSRF-Token (or the __csrf cookie) echoed on unsafe methods, and
// Harbor's error envelope turned into plain messages.
import type { Errors } from './types.ts';

export const API = '/api/v2.0';
const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

export function onUnauthorized(f: () => void): () => void {
  unauthorizedListeners.add(f);
  return () => unauthorizedListeners.delete(f);
}

function cookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

function remember(res: Response): void {
  const t = res.headers.get('X-Harbor-CSRF-Token');
  if (t) csrfToken = t;
}

/** Headers every API request carries: the session's CSRF token on unsafe methods. */
export function authHeaders(method: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (UNSAFE.has(method.toUpperCase())) {
    const t = csrfToken ?? cookie('__csrf');
    if (t) h['X-Harbor-CSRF-Token'] = t;
  }
  return h;
}

/** Notes a response: keeps the CSRF token; a 401 sends the user to the login page. */
export function noteResponse(res: Response, path = ''): void {
  remember(res);
  if (res.status === 401 && !path.startsWith('/c/login')) for (const f of unauthorizedListeners) f();
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  /** Return the body as text instead of JSON. */
  text?: boolean;
}

export interface ApiResult<T> {
  data: T;
  /** X-Total-Count of a paginated list, else null. */
  total: number | null;
  headers: Headers;
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`;
  let code = String(res.status);
  try {
    const body = (await res.json()) as Errors;
    const e = body.errors?.[0];
    if (e?.message) message = e.message;
    if (e?.code) code = e.code;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message);
}

export function withQuery(path: string, query?: CallOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export async function call<T = unknown>(method: string, path: string, opts: CallOptions = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.body instanceof URLSearchParams) body = opts.body;
  else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  Object.assign(headers, authHeaders(method));
  const url = path.startsWith('/c/') ? path : API + path;
  const res = await fetch(withQuery(url, opts.query), { method, headers, body, credentials: 'same-origin' });
  noteResponse(res, path);
  if (!res.ok) throw await errorOf(res);
  const totalHeader = res.headers.get('X-Total-Count');
  let data: unknown = null;
  if (opts.text) data = await res.text();
  else if (res.status !== 204) {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  }
  return { data: data as T, total: totalHeader === null ? null : Number(totalHeader), headers: res.headers };
}

export const get = async <T>(path: string, query?: CallOptions['query']): Promise<T> => (await call<T>('GET', path, { query })).data;

/** One page of a Harbor list: the rows and X-Total-Count. */
export async function getPage<T>(path: string, query: CallOptions['query']): Promise<{ items: T[]; total: number }> {
  const r = await call<T[] | null>('GET', path, { query });
  const items = r.data ?? [];
  return { items, total: r.total ?? items.length };
}

/** Session login (POST /c/login sets the HttpOnly `sid` cookie; no credential is kept in the page). */
export async function login(principal: string, password: string): Promise<void> {
  const res = await fetch('/c/login', { method: 'POST', body: new URLSearchParams({ principal, password }), credentials: 'same-origin' });
  remember(res);
  if (!res.ok) throw await errorOf(res);
}

export async function logout(): Promise<void> {
  await fetch('/c/log_out', { credentials: 'same-origin' }).catch(() => undefined);
  csrfToken = null;
}

/** Repository names with '/' go double-encoded into paths, as Harbor expects. */
export const repoPath = (name: string): string => encodeURIComponent(encodeURIComponent(name));
/** A repository name inside its project: 'proj/a/b' -> 'a/b'. */
export const repoInProject = (project: string, full: string): string => (full.startsWith(`${project}/`) ? full.slice(project.length + 1) : full);

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
