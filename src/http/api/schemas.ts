// Building blocks for the JSON schemas of /api/v2.0 routes. Each route declares Harbor's operationId and tag,
// its params/querystring/body and its responses; the OpenAPI document (openapi.ts) is generated from them and
// request bodies are validated with them (ajv: unknown fields of a body schema with `additionalProperties:
// false` are removed before the handler sees them, type errors are 400 BAD_REQUEST). Response schemas are
// documentation only: /api/v2.0 serializes replies with JSON.stringify (index.ts), so a schema never drops a field.

type Schema = Record<string, unknown>;

/** Harbor's error envelope (`Errors`). */
export const ERRORS_SCHEMA: Schema = {
  type: 'object',
  description: 'Errors',
  properties: {
    errors: {
      type: 'array',
      items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const STATUS_TEXT: Record<number, string> = {
  200: 'Success',
  201: 'Created',
  202: 'Accepted',
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  412: 'Precondition failed',
  415: 'Unsupported media type',
  422: 'Unprocessable entity',
  500: 'Internal server error',
};

const errorResponses = (codes: readonly number[]): Record<string, Schema> =>
  Object.fromEntries(codes.map((c) => [String(c), { ...ERRORS_SCHEMA, description: STATUS_TEXT[c] ?? 'Error' }]));

/** A success response without a body (Harbor's updates and deletes answer an empty 200). */
export const EMPTY = (description = 'Success'): Schema => ({ type: 'null', description });

/** 201 Created with the new object's URL in Location. */
export const CREATED: Schema = {
  type: 'null',
  description: 'Created',
  headers: { Location: { type: 'string', description: 'The URL of the created resource' } },
};

/** A JSON array response with Harbor's paging headers. */
export const PAGED = (items: Schema, description = 'Success'): Schema => ({
  type: 'array',
  description,
  items,
  headers: {
    'X-Total-Count': { type: 'integer', description: 'The total count of available items' },
    Link: { type: 'string', description: 'Links to the previous and next pages' },
  },
});

export const TEXT = (description: string): Schema => ({ type: 'string', description });

/** page, page_size (Harbor's defaults and maximum), and optionally q and sort. */
export function pageQuery(opts: { q?: boolean; sort?: boolean } = {}): Record<string, Schema> {
  const out: Record<string, Schema> = {
    page: { type: 'integer', format: 'int64', default: 1, description: 'The page number' },
    page_size: { type: 'integer', format: 'int64', maximum: 100, default: 10, description: 'The size of per page' },
  };
  if (opts.q) out.q = { type: 'string', description: 'Query string, e.g. k=v,k2=~v2,k3=[min~max],k4={v1 v2},k5=(v1 v2)' };
  if (opts.sort) out.sort = { type: 'string', description: 'Sort fields, e.g. sort=field1,-field2' };
  return out;
}

export interface OpSpec {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  params?: Record<string, Schema>;
  query?: Record<string, Schema>;
  /** Query parameters Harbor marks required. */
  queryRequired?: string[];
  body?: Schema;
  /** Success responses: status → schema (EMPTY, CREATED, PAGED(...), an object schema). */
  ok: Record<number, Schema>;
  /** Error statuses the route documents (only those Harbor documents for this operation). */
  errors?: readonly number[];
  /** Kept out of the OpenAPI document (e.g. an alias path Harbor does not list). */
  hide?: boolean;
}

/** A Fastify route schema for one Harbor operation. */
export function op(s: OpSpec): Schema {
  const schema: Schema = {
    operationId: s.operationId,
    tags: [s.tag],
    summary: s.summary,
    response: {
      ...Object.fromEntries(Object.entries(s.ok).map(([k, v]) => [k, v.description ? v : { ...v, description: STATUS_TEXT[Number(k)] ?? 'Success' }])),
      ...errorResponses(s.errors ?? []),
    },
  };
  if (s.description) schema.description = s.description;
  if (s.params) schema.params = { type: 'object', properties: s.params, required: Object.keys(s.params) };
  if (s.query) schema.querystring = { type: 'object', properties: s.query, ...(s.queryRequired?.length ? { required: s.queryRequired } : {}) };
  if (s.body) schema.body = s.body;
  if (s.hide) schema.hide = true;
  return schema;
}

/** A request body object: only `properties` are kept (anything else is removed before the handler runs). */
export function bodyOf(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  const b: Schema = { type: 'object', description, properties, additionalProperties: false };
  if (required.length) b.required = required;
  return b;
}

export const str = (description?: string): Schema => (description ? { type: 'string', description } : { type: 'string' });
export const int = (description?: string): Schema => (description ? { type: 'integer', description } : { type: 'integer' });
export const bool = (description?: string): Schema => (description ? { type: 'boolean', description } : { type: 'boolean' });
export const dateTime: Schema = { type: 'string', format: 'date-time' };
export const obj = (properties: Record<string, Schema>, description?: string): Schema =>
  description ? { type: 'object', description, properties } : { type: 'object', properties };
/** A free-form map with values of one schema. */
export const mapOf = (values: Schema, description?: string): Schema =>
  description ? { type: 'object', description, additionalProperties: values } : { type: 'object', additionalProperties: values };

/** Harbor's ScheduleObj. */
export const SCHEDULE_OBJ = obj({
  type: { type: 'string', enum: ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None', 'Schedule'] },
  cron: str('A cron expression, a time-based job scheduler'),
  next_scheduled_time: { ...dateTime, description: 'The next time the schedule runs' },
});
