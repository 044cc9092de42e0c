// /api/v2.0/configurations: Harbor's runtime system settings (sysadmin only). GET answers {key: {value,
// editable}} without secrets; PUT accepts only allow-listed keys with the right types (400 otherwise, nothing
// stored). The domain rules live in ConfigurationService.
import type { FastifyInstance } from 'fastify';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, type ConfigurationService } from '../../services/config/configuration-service.ts';
import { bodyObject, type ApiAuth } from './context.ts';

const jsonType = (k: keyof typeof CONFIG_KEYS) => (CONFIG_KEYS[k].type === 'bool' ? 'boolean' : CONFIG_KEYS[k].type === 'int' ? 'integer' : 'string');
const item = (type: string) => ({ type: 'object', properties: { value: { type }, editable: { type: 'boolean' } } });

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
const errorResponses = { 400: ERRORS, 401: ERRORS, 403: ERRORS, 500: ERRORS };

export async function configurationRoutes(app: FastifyInstance, configs: ConfigurationService, auth: ApiAuth): Promise<void> {
  const publicKeys = CONFIG_KEY_NAMES.filter((k) => !CONFIG_KEYS[k].secret || CONFIG_KEYS[k].listedEmpty);
  const scanAllPolicy = { type: 'object', properties: { type: { type: 'string' }, parameter: { type: 'object', additionalProperties: true } } };
  app.get('/configurations', {
    schema: {
      operationId: 'getConfigurations',
      tags: ['configure'],
      summary: 'Get the system configurations (secrets are never returned).',
      response: {
        200: { type: 'object', properties: { ...Object.fromEntries(publicKeys.map((k) => [k, item(jsonType(k))])), scan_all_policy: scanAllPolicy }, additionalProperties: true },
        // Harbor documents no 400 for getConfigurations
        401: ERRORS,
        403: ERRORS,
        500: ERRORS,
      },
    },
  }, async (req) => {
    await auth.sysadmin(req);
    return configs.publicView();
  });

  app.put('/configurations', {
    schema: {
      operationId: 'updateConfigurations',
      tags: ['configure'],
      summary: 'Modify the system configurations (only the listed keys; unknown keys or wrong types are refused).',
      // null means "not given" (Harbor's clients send every key)
      body: { type: 'object', properties: Object.fromEntries(CONFIG_KEY_NAMES.map((k) => [k, { type: jsonType(k), nullable: true }])) },
      response: { 200: { type: 'null' }, ...errorResponses },
    },
    // Types are checked strictly by the service (no coercion of "true" or "30"); the schema documents the body.
    validatorCompiler: () => () => true,
  }, async (req, reply) => {
    const me = await auth.sysadmin(req);
    await configs.update(me.username, bodyObject(req));
    return reply.send();
  });

  // Harbor: internal (solution users only). Berth: sysadmin only, secrets left out.
  app.get('/internalconfig', {
    schema: {
      operationId: 'getInternalconfig',
      tags: ['configure'],
      summary: 'Get the internal configurations (sysadmin only; secrets are never returned).',
      response: {
        200: { type: 'object', additionalProperties: { type: 'object', properties: { value: {}, editable: { type: 'boolean' } } } },
        401: ERRORS,
        403: ERRORS,
        500: ERRORS,
      },
    },
  }, async (req) => {
    await auth.sysadmin(req);
    return configs.internalView();
  });
}
