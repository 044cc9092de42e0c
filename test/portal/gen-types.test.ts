// scripts/gen-portal-types.ts: OpenAPI 3 schemas and operations to the `paths` shape openapi-fetch reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, tsType } from '../../scripts/gen-portal-types.ts';

test('schema types: primitives, arrays, required/optional, nullable, enums, maps, refs', () => {
  assert.equal(tsType({ type: 'integer' }), 'number');
  assert.equal(tsType({ type: 'string', nullable: true }), 'string | null');
  assert.equal(tsType({ type: ['string', 'null'] }), 'string | null');
  assert.equal(tsType({ enum: ['a', 'b'] }), '"a" | "b"');
  assert.equal(tsType({ type: 'array', items: { type: 'boolean' } }), '(boolean)[]');
  assert.equal(tsType({ $ref: '#/components/schemas/Project' }), 'components["schemas"]["Project"]');
  const obj = tsType({ type: 'object', required: ['id'], properties: { id: { type: 'integer' }, 'x-y': { type: 'string' } } });
  assert.match(obj, /id: number;/);
  assert.match(obj, /"x-y"\?: string;/);
  assert.match(tsType({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }), /\[key: string\]: string \| undefined;/);
  assert.match(tsType({ type: 'object' }), /\[key: string\]: unknown;/);
});

test('operations: parameters by location, request body, responses by status', () => {
  const out = generate({
    paths: {
      '/projects/{project_name_or_id}/members': {
        post: {
          summary: 'Add a member',
          parameters: [{ name: 'project_name_or_id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { role_id: { type: 'integer' } } } } } },
          responses: { '201': {}, '409': { content: { 'application/json': { schema: { type: 'object', properties: { errors: { type: 'array' } } } } } } },
        },
      },
    },
  });
  assert.match(out, /"\/projects\/\{project_name_or_id\}\/members": \{/);
  assert.match(out, /post: \{/);
  assert.match(out, /path: \{\n\s+project_name_or_id: string;/);
  assert.match(out, /query\?: never;/);
  assert.match(out, /requestBody: \{\n\s+content: \{\n\s+"application\/json": \{\n\s+role_id\?: number;/);
  assert.match(out, /201: \{\n\s+headers: .*\n\s+content: never;/);
  assert.match(out, /409: \{/);
  assert.match(out, /export interface components/);
});
