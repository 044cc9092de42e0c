// Harbor's list conventions: page/page_size, X-Total-Count and Link headers (`src/lib/link.go`,
// `src/server/v2.0/handler/base.go`), and the `q`/`sort` query syntax limited to allow-listed fields.
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { Condition } from '../../repositories/list-query.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 10;

export interface Page {
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

/** LIMIT for an unpaginated list (page_size=0): larger than any table, still a valid SQL integer. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function nonNegativeInt(v: string | null, name: string, dflt: number, max: number): number {
  if (v === null || v === '') return dflt;
  if (!/^-?[0-9]{1,9}$/.test(v)) throw ApiErrors.badRequest(`${name} must be an integer`);
  const n = Number(v);
  if (n > max) throw ApiErrors.badRequest(`${name} must be at most ${max}`);
  return n;
}

/**
 * Harbor's paging (`handler/base.go` BuildQuery, `lib/q`): page below 1 is page 1; page_size missing is 10 and
 * page_size 0 (or below) means "all rows", q.Build's unpaginated query. pageSize 0 marks that case.
 */
export function parsePage(query: URLSearchParams): Page {
  const page = Math.max(1, nonNegativeInt(query.get('page'), 'page', 1, 1_000_000_000));
  const pageSize = Math.max(0, nonNegativeInt(query.get('page_size'), 'page_size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
  if (pageSize === 0) return { page: 1, pageSize: 0, limit: UNLIMITED, offset: 0 };
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

/** Go's strconv.ParseBool, which Harbor's generated handlers use for query booleans; null when not a boolean. */
export function parseGoBool(v: string): boolean | null {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return null;
}

/** Go's url.QueryEscape: unreserved characters stay, space becomes '+', everything else is %XX. */
function goQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's url.Values.Encode: keys sorted, each value in order. */
function goEncode(params: URLSearchParams): string {
  const keys = [...new Set(params.keys())].sort();
  return keys.flatMap((k) => params.getAll(k).map((v) => `${goQueryEscape(k)}=${goQueryEscape(v)}`)).join('&');
}

/** Harbor's Link header for a page: `<path?query>; rel="prev" , <path?query>; rel="next"`, or null. */
export function linkHeader(path: string, query: URLSearchParams, total: number, page: number, pageSize: number): string | null {
  const links: string[] = [];
  if (pageSize <= 0) return null; // one unpaginated page: no neighbours
  const at = (n: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    q.set('page_size', String(pageSize));
    links.push(`<${path}?${goEncode(q)}>; rel="${rel}"`);
  };
  if (page > 1 && (page - 1) * pageSize < total) at(page - 1, 'prev');
  if (pageSize * page < total) at(page + 1, 'next');
  return links.length ? links.join(' , ') : null;
}

export function setPageHeaders(reply: FastifyReply, rawUrl: string, total: number, p: Page): void {
  const i = rawUrl.indexOf('?');
  const path = i < 0 ? rawUrl : rawUrl.slice(0, i);
  const query = new URLSearchParams(i < 0 ? '' : rawUrl.slice(i + 1));
  reply.header('X-Total-Count', String(total));
  const link = linkHeader(path, query, total, p.page, p.pageSize);
  if (link) reply.header('Link', link);
}

/** How a `q` field may be matched, and how its text values are read. */
export interface FieldSpec {
  type: 'string' | 'int' | 'bool';
  /** Operators the field accepts (exact `k=v` is always accepted). */
  fuzzy?: boolean;
  range?: boolean;
  union?: boolean;
}

function value(raw: string, spec: FieldSpec, field: string): string | number {
  let s = raw.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  if (s.includes('\0')) throw ApiErrors.badRequest(`invalid value for ${field}`);
  if (spec.type === 'int') {
    if (!/^-?[0-9]{1,15}$/.test(s)) throw ApiErrors.badRequest(`${field} must be an integer`);
    return Number(s);
  }
  if (spec.type === 'bool') {
    const b = parseGoBool(s);
    if (b === null) throw ApiErrors.badRequest(`${field} must be a boolean`);
    return b ? 1 : 0;
  }
  if (s.length > 255) throw ApiErrors.badRequest(`${field} is too long`);
  return s;
}

/**
 * Parses Harbor's `q=k1=v1,k2=~v2,k3=[min~max],k4={v1 v2}`. Only fields in `allowed` are accepted, each with
 * the operators its spec allows; anything else (unknown fields, `__` relations, other operators) is a 400.
 */
export function parseQ<F extends string>(q: string | null, allowed: Readonly<Record<F, FieldSpec>>): Partial<Record<F, Condition>> {
  const out: Partial<Record<F, Condition>> = {};
  if (q === null || q.trim() === '') return out;
  if (q.length > 2048) throw ApiErrors.badRequest('q is too long');
  for (const part of splitTopLevel(q)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw ApiErrors.badRequest(`invalid query: ${part.slice(0, 64)}`);
    let key = part.slice(0, eq).trim();
    let rest = part.slice(eq + 1);
    // Harbor's ORM operators on a field: `name__icontains=x` is a fuzzy match, `name__exact=x` an exact one.
    const op = /^(.+?)__(icontains|exact|in|gte|lte|gt|lt)$/.exec(key);
    if (op && Object.hasOwn(allowed, op[1]!)) {
      if (op[2] !== 'icontains' && op[2] !== 'exact') throw ApiErrors.badRequest(`the operator __${op[2]} is not supported on ${op[1]}; use q's range and list forms`);
      key = op[1]!;
      rest = op[2] === 'icontains' ? `~${rest}` : rest;
    }
    // A key that is not a filterable field is ignored, as Harbor's ORM does (lib/orm/query.go setFilters): scripts
    // written for Harbor send keys Berth does not filter on. Fields outside the allow-list (password, salt, …) are
    // therefore never an oracle (CVE-2025-30086, CVE-2019-19026): they do not filter at all.
    if (!Object.hasOwn(allowed, key)) continue;
    const field = key as F;
    const spec = allowed[field];
    if (out[field]) throw ApiErrors.badRequest(`${key} is given twice`);
    if (rest.startsWith('~')) {
      if (!spec.fuzzy || spec.type !== 'string') throw ApiErrors.badRequest(`fuzzy match is not supported on ${key}`);
      out[field] = { op: 'like', value: String(value(rest.slice(1), spec, key)) };
    } else if (rest.startsWith('[') && rest.endsWith(']')) {
      if (!spec.range) throw ApiErrors.badRequest(`range match is not supported on ${key}`);
      const [a, b, ...extra] = rest.slice(1, -1).split('~');
      if (b === undefined || extra.length) throw ApiErrors.badRequest(`invalid range for ${key}`);
      out[field] = { op: 'range', min: a.trim() ? value(a, spec, key) : null, max: b.trim() ? value(b, spec, key) : null };
    } else if ((rest.startsWith('{') && rest.endsWith('}')) || (rest.startsWith('(') && rest.endsWith(')'))) {
      if (!spec.union || rest.startsWith('(')) throw ApiErrors.badRequest(`list match is not supported on ${key}`);
      const values = rest.slice(1, -1).split(' ').filter(Boolean);
      if (values.length > 100) throw ApiErrors.badRequest(`too many values for ${key}`);
      out[field] = { op: 'in', values: values.map((v) => value(v, spec, key)) };
    } else {
      out[field] = { op: 'eq', value: value(rest, spec, key) };
    }
  }
  return out;
}

/** Splits on commas outside quotes, brackets, braces and parentheses; unbalanced ones are a 400. */
export function splitTopLevel(q: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const c of q) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && '[{('.includes(c)) depth++;
    else if (!quoted && ']})'.includes(c) && --depth < 0) throw ApiErrors.badRequest('unbalanced brackets in q');
    if (c === ',' && depth === 0 && !quoted) {
      if (cur.trim()) parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (depth !== 0 || quoted) throw ApiErrors.badRequest('unbalanced brackets or quotes in q');
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

/** Parses `sort=field1,-field2` against an allow-list; other names are ignored (Harbor). */
export function parseSort<F extends string>(sort: string | null, allowed: readonly F[]): { field: F; desc: boolean }[] {
  if (sort === null || sort.trim() === '') return [];
  const out: { field: F; desc: boolean }[] = [];
  for (const raw of sort.split(',')) {
    const s = raw.trim();
    const desc = s.startsWith('-');
    const name = desc ? s.slice(1) : s;
    // A field that is not sortable is skipped, as Harbor's ORM does (setSorts); only allow-listed names reach SQL.
    if (!(allowed as readonly string[]).includes(name)) continue;
    out.push({ field: name as F, desc });
  }
  if (out.length > 5) throw ApiErrors.badRequest('too many sort fields');
  return out;
}
