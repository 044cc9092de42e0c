// Harbor's published swagger (fixtures/harbor-swagger.yaml, see fixtures/README.md) and Berth's served
// OpenAPI 3 document, read side by side: operations matched by method and path shape, schemas resolved, and
// JSON values or schemas compared against Harbor's definitions by property name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export type Json = any;

export interface Param {
  name: string;
  in: string;
  type: string | undefined;
  required: boolean;
}

export interface Operation {
  method: string;
  path: string;
  /** The path with every {param} replaced by {}: how Harbor's and Berth's paths are matched. */
  shape: string;
  operationId: string | undefined;
  params: Param[];
  /** JSON schema of the request body, if any. */
  body: Json | undefined;
  /** status → JSON schema of the response body (undefined when it has none). */
  responses: Map<string, Json | undefined>;
  /** status → names of the response headers the operation documents. */
  headers: Map<string, string[]>;
}

export const shapeOf = (path: string): string => path.replace(/\{[^}]+\}/g, '{}');
export const pathParamNames = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

// ---- Harbor (swagger 2.0)

export class HarborSpec {
  readonly doc: Json;
  readonly operations: Operation[] = [];
  private readonly byKey = new Map<string, Operation>();

  constructor(doc: Json) {
    this.doc = doc;
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const raw = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => (p.$ref ? this.ref(p.$ref) : p));
        const params: Param[] = raw
          .filter((p: Json) => p.in !== 'body')
          .map((p: Json) => ({ name: p.name, in: p.in, type: p.type, required: Boolean(p.required) }));
        const bodyParam = raw.find((p: Json) => p.in === 'body');
        const responses = new Map<string, Json | undefined>();
        const headers = new Map<string, string[]>();
        for (const [code, r] of Object.entries<Json>(op.responses ?? {})) {
          const resp = r.$ref ? this.ref(r.$ref) : r;
          responses.set(code, resp.schema);
          headers.set(code, Object.keys(resp.headers ?? {}));
        }
        const o: Operation = { method: method.toUpperCase(), path, shape: shapeOf(path), operationId: op.operationId, params, body: bodyParam?.schema, responses, headers };
        this.operations.push(o);
        this.byKey.set(`${o.method} ${o.shape}`, o);
      }
    }
  }

  static load(): HarborSpec {
    return new HarborSpec(parse(readFileSync(join(import.meta.dirname, 'fixtures', 'harbor-swagger.yaml'), 'utf8')));
  }

  find(method: string, path: string): Operation | undefined {
    return this.byKey.get(`${method.toUpperCase()} ${shapeOf(path)}`);
  }

  ref(ref: string): Json {
    const m = /^#\/(definitions|parameters|responses)\/(.+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}`);
    const v = this.doc[m[1]][m[2]];
    if (!v) throw new Error(`dangling $ref ${ref}`);
    return v;
  }

  /** A schema with $ref followed and allOf merged (properties united). */
  resolve(schema: Json): Json {
    let s = schema;
    for (let i = 0; s && s.$ref && i < 20; i++) s = this.ref(s.$ref);
    if (s && Array.isArray(s.allOf)) {
      const merged: Json = { type: 'object', properties: {} };
      for (const part of s.allOf) {
        const r = this.resolve(part);
        Object.assign(merged.properties, r?.properties ?? {});
        if (r?.additionalProperties) merged.additionalProperties = r.additionalProperties;
      }
      Object.assign(merged.properties, s.properties ?? {});
      return merged;
    }
    return s;
  }
}

// ---- Berth (OpenAPI 3, as served)

export function berthOperations(doc: Json): Operation[] {
  const resolveRef = (s: Json): Json => {
    let v = s;
    for (let i = 0; v && v.$ref && i < 20; i++) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(v.$ref);
      if (!m) throw new Error(`unsupported $ref ${v.$ref}`);
      v = doc.components?.schemas?.[m[1]];
    }
    return v;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => {
        const schema = resolveRef(p.schema ?? {});
        const t = Array.isArray(schema.type) ? schema.type.find((x: string) => x !== 'null') : schema.type;
        return { name: p.name, in: p.in, type: t, required: Boolean(p.required) };
      });
      const body = op.requestBody?.content?.['application/json']?.schema;
      const responses = new Map<string, Json | undefined>();
      const headers = new Map<string, string[]>();
      for (const [code, r] of Object.entries<Json>(op.responses ?? {})) {
        headers.set(code, Object.keys(r.headers ?? {}));
        const content = r.content ?? {};
        const schema = content['application/json']?.schema ?? Object.values<Json>(content)[0]?.schema;
        responses.set(code, schema ? resolveDeep(schema, resolveRef) : undefined);
      }
      out.push({ method: method.toUpperCase(), path, shape: shapeOf(path), operationId: op.operationId, params, body: body ? resolveDeep(body, resolveRef) : undefined, responses, headers });
    }
  }
  return out;
}

function resolveDeep(s: Json, resolveRef: (s: Json) => Json, depth = 0): Json {
  if (depth > 30 || !s || typeof s !== 'object') return s;
  const r = resolveRef(s);
  if (Array.isArray(r)) return r.map((x) => resolveDeep(x, resolveRef, depth + 1));
  const out: Json = {};
  for (const [k, v] of Object.entries<Json>(r)) out[k] = resolveDeep(v, resolveRef, depth + 1);
  return out;
}

// ---- comparisons

const typesOf = (s: Json): string[] => (s?.type === undefined ? [] : Array.isArray(s.type) ? s.type.filter((t: string) => t !== 'null') : [s.type]);
/** go-swagger reads `type: object` without properties or additionalProperties as interface{}: any value. */
const isAny = (s: Json) => typesOf(s).join() === 'object' && !s.properties && s.additionalProperties === undefined && !s.allOf;
const isObjectSchema = (s: Json) => typesOf(s).includes('object') || (s && (s.properties || s.additionalProperties !== undefined));

/**
 * Walks Berth's schema `b` against Harbor's schema `h`: every property Berth declares must be a property of
 * Harbor's definition at the same place (or sit under one of Harbor's maps / free-form objects), with a
 * compatible type. Problems are pushed to `out` as "<where>: <what>".
 */
export function compareSchemas(harbor: HarborSpec, b: Json, hRaw: Json, where: string, out: string[], depth = 0): void {
  if (!b || depth > 12) return;
  const h = harbor.resolve(hRaw);
  if (!h) {
    if (typesOf(b).length && !typesOf(b).every((t) => t === 'null')) out.push(`${where}: Berth declares a body where Harbor declares none`);
    return;
  }
  if (isAny(h)) return;
  const bt = typesOf(b);
  const ht = typesOf(h);
  if (bt.length && ht.length && !compatible(bt, ht)) {
    out.push(`${where}: type ${bt.join('|')} where Harbor has ${ht.join('|')}`);
    return;
  }
  if (bt.includes('array') && b.items) {
    compareSchemas(harbor, b.items, h.items, `${where}[]`, out, depth + 1);
    return;
  }
  if (isObjectSchema(b) && b.properties) {
    const hp = h.properties;
    for (const [k, v] of Object.entries<Json>(b.properties)) {
      if (hp && Object.hasOwn(hp, k)) compareSchemas(harbor, v, hp[k], `${where}.${k}`, out, depth + 1);
      else if (h.additionalProperties && typeof h.additionalProperties === 'object') compareSchemas(harbor, v, h.additionalProperties, `${where}.${k}`, out, depth + 1);
      else if (!hp || h.additionalProperties === true) {
        // Harbor's free-form object: any key is fine
      } else out.push(`${where}.${k}: not a property of Harbor's ${describe(hRaw)}`);
    }
  }
}

function compatible(berth: string[], harbor: string[]): boolean {
  const norm = (t: string) => (t === 'number' ? 'integer' : t);
  return berth.every((t) => harbor.map(norm).includes(norm(t)) || (t === 'integer' && harbor.includes('number')));
}

function describe(h: Json): string {
  if (h?.$ref) return h.$ref.split('/').pop();
  if (h?.items?.$ref) return `[${h.items.$ref.split('/').pop()}]`;
  return 'schema';
}

/**
 * Walks an actual JSON response against Harbor's schema: every key must be a property of Harbor's
 * definition (or a key of one of its maps), and scalars must have Harbor's type (null is accepted).
 * Problems are pushed to `out` as "<json path>: <what>"; `allowed(path)` exempts listed paths.
 */
export function checkJson(harbor: HarborSpec, value: Json, hRaw: Json, where: string, out: string[], allowed: (path: string) => boolean, depth = 0): void {
  if (value === null || value === undefined || depth > 12) return;
  const h = harbor.resolve(hRaw);
  if (!h || isAny(h)) return;
  const ht = typesOf(h);
  if (Array.isArray(value)) {
    if (ht.length && !ht.includes('array')) {
      out.push(`${where}: an array where Harbor has ${ht.join('|')}`);
      return;
    }
    for (const v of value) checkJson(harbor, v, h.items, `${where}[]`, out, allowed, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    if (ht.length && !ht.includes('object')) {
      out.push(`${where}: an object where Harbor has ${ht.join('|')}`);
      return;
    }
    for (const [k, v] of Object.entries<Json>(value)) {
      const p = `${where}.${k}`;
      if (h.properties && Object.hasOwn(h.properties, k)) checkJson(harbor, v, h.properties[k], p, out, allowed, depth + 1);
      else if (h.additionalProperties && typeof h.additionalProperties === 'object') checkJson(harbor, v, h.additionalProperties, p, out, allowed, depth + 1);
      else if (!h.properties || h.additionalProperties === true) {
        // free-form object
      } else if (!allowed(p)) out.push(`${p}: key not defined by Harbor's ${describe(hRaw)}`);
    }
    return;
  }
  const jsType = typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (ht.length && !ht.some((t) => t === jsType || (t === 'number' && jsType === 'integer')) && !allowed(where)) {
    out.push(`${where}: ${jsType} ${JSON.stringify(value).slice(0, 40)} where Harbor has ${ht.join('|')}`);
    return;
  }
  if (h.format === 'date-time' && typeof value === 'string' && value !== '' && Number.isNaN(Date.parse(value))) out.push(`${where}: not a date-time: ${value.slice(0, 40)}`);
}
