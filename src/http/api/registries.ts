// /api/v2.0/registries and /replication/adapters*: Harbor's `registry` tag (handler/registry.go), system admins
// only. Endpoints' secrets are write-only: a response shows "*****" when one is set (Harbor's convertRegistry).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SECRET_MASK, type RegistryView, type RegistryService } from '../../services/replication/registry-service.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './context.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { bodyOf, bool, CREATED, dateTime, EMPTY, int, mapOf, obj, op, PAGED, pageQuery, str } from './schemas.ts';

const TAG = 'registry';
const CREDENTIAL = obj({
  type: str("Credential type, such as 'basic', 'oauth'."),
  access_key: str('Access key, e.g. user name when credential type is \'basic\'.'),
  access_secret: str('Access secret, e.g. password when credential type is \'basic\'. Never returned: "*****" when set.'),
});
const REGISTRY_PROPS = {
  id: int('The registry ID.'),
  url: str('The registry URL string.'),
  name: str('The registry name.'),
  credential: CREDENTIAL,
  type: str("Type of the registry, e.g. 'harbor'."),
  insecure: bool('Whether or not the certificate will be verified when Harbor tries to access the server.'),
  ca_certificate: str('The CA certificate (PEM) trusted for the registry.'),
  description: str('Description of the registry.'),
  status: str('Health status of the registry.'),
  creation_time: { ...dateTime, description: 'The create time of the policy.' },
  update_time: { ...dateTime, description: 'The update time of the policy.' },
};
const REGISTRY = obj(REGISTRY_PROPS);
const { id: _id, status: _status, creation_time: _c, update_time: _u, ...WRITABLE } = REGISTRY_PROPS;
const CREATE_BODY = bodyOf('The registry', WRITABLE);
// Harbor's RegistryUpdate and RegistryPing carry the connection flat (not under `credential`).
const CONNECTION = {
  url: str('The registry URL.'),
  credential_type: str('Credential type of the registry, e.g. \'basic\'.'),
  access_key: str('The registry access key.'),
  access_secret: str('The registry access secret.'),
  insecure: bool('Whether or not the certificate will be verified when Harbor tries to access the server.'),
  ca_certificate: str('The CA certificate (PEM) trusted for the registry.'),
};
const UPDATE_BODY = bodyOf('The registry', { name: str('The registry name.'), description: str('Description of the registry.'), ...CONNECTION });
const PING_BODY = bodyOf('The registry', { id: int('The registry ID.'), type: str("Type of the registry, e.g. 'harbor'."), ...CONNECTION });
const FILTER_STYLE = obj({ type: str('The filter type'), style: str('The filter style'), values: { type: 'array', items: str(), description: 'The filter values' } });
const INFO = obj({
  type: str('The registry type'),
  description: str('The description'),
  supported_resource_filters: { type: 'array', items: FILTER_STYLE, description: 'The filters that the registry supports' },
  supported_triggers: { type: 'array', items: str(), description: 'The triggers that the registry supports' },
  supported_copy_by_chunk: bool('The registry whether support copy by chunk.'),
});
const PROVIDER_INFO = obj({
  endpoint_pattern: obj({ endpoint_type: str('The endpoint type'), endpoints: { type: 'array', items: obj({ key: str('The endpoint key'), value: str('The endpoint value') }) } }),
  credential_pattern: obj({ access_key_type: str(), access_key_data: str(), access_secret_type: str(), access_secret_data: str() }),
});
const ID = { id: int('Registry ID') };

const S = {
  list: op({ operationId: 'listRegistries', tag: TAG, summary: 'List the registries', query: { ...pageQuery({ q: true, sort: true }), name: str('Deprecated, use `q` instead.') }, ok: { 200: PAGED(REGISTRY) }, errors: [401, 403, 500] }),
  create: op({ operationId: 'createRegistry', tag: TAG, summary: 'Create a registry', body: CREATE_BODY, ok: { 201: CREATED }, errors: [400, 401, 403, 409, 500] }),
  ping: op({ operationId: 'pingRegistry', tag: TAG, summary: 'Check status of registry', body: PING_BODY, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
  get: op({ operationId: 'getRegistry', tag: TAG, summary: 'Get the specific registry', params: ID, ok: { 200: REGISTRY }, errors: [401, 403, 404, 500] }),
  remove: op({ operationId: 'deleteRegistry', tag: TAG, summary: 'Delete the specific registry', params: ID, ok: { 200: EMPTY() }, errors: [401, 403, 404, 412, 500] }),
  update: op({ operationId: 'updateRegistry', tag: TAG, summary: 'Update the registry', params: ID, body: UPDATE_BODY, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 409, 500] }),
  info: op({ operationId: 'getRegistryInfo', tag: TAG, summary: 'Get the registry info', params: ID, ok: { 200: INFO }, errors: [401, 403, 404, 500] }),
  adapters: op({ operationId: 'listRegistryProviderTypes', tag: TAG, summary: 'List registry adapters', ok: { 200: { type: 'array', items: str() } }, errors: [401, 403, 500] }),
  adapterInfos: op({ operationId: 'listRegistryProviderInfos', tag: TAG, summary: 'List all registered registry provider information', ok: { 200: mapOf(PROVIDER_INFO) }, errors: [401, 403, 500] }),
};

/** Harbor's Registry JSON (also embedded in replication policies as src_registry/dest_registry). */
export const registryView = (r: RegistryView) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  type: r.type,
  url: r.url,
  // Harbor's convertRegistry: the secret is masked; the type and key are shown.
  credential: { type: r.credentialType, access_key: r.accessKey, access_secret: r.hasSecret ? SECRET_MASK : '' },
  insecure: r.insecure,
  ...(r.caCertificate ? { ca_certificate: r.caCertificate } : {}),
  status: r.status,
  creation_time: isoTime(r.createdAt),
  update_time: isoTime(r.updatedAt),
});

type Req = FastifyRequest<{ Params: { id?: string } }>;

export async function registryRoutes(app: FastifyInstance, registries: RegistryService, auth: ApiAuth): Promise<void> {
  app.get('/registries', { schema: S.list }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true }, type: { type: 'string' }, url: { type: 'string', fuzzy: true }, description: { type: 'string', fuzzy: true } } as const);
    // Harbor keeps the deprecated `name` as a fuzzy name match.
    const legacy = q.get('name');
    if (legacy !== null && legacy !== '' && !where.name) where.name = { op: 'like', value: legacy.slice(0, 255) };
    const sort = parseSort(q.get('sort'), ['name', 'type', 'url', 'creation_time', 'update_time'] as const);
    const r = await registries.list({ where, sort, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(registryView);
  });

  app.post('/registries', { schema: S.create }, async (req, reply) => {
    const caller = await auth.sysadmin(req);
    const id = await registries.create(caller.username, bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/registries/${id}`).send();
  });

  app.post('/registries/ping', { schema: S.ping }, async (req, reply) => {
    await auth.sysadmin(req);
    await registries.ping(bodyObject(req));
    return reply.code(200).send();
  });

  app.get('/registries/:id', { schema: S.get }, async (req: Req) => {
    await auth.sysadmin(req);
    return registryView(await registries.get(pathId(req.params.id, 'registry id')));
  });

  app.put('/registries/:id', { schema: S.update }, async (req: Req, reply) => {
    const caller = await auth.sysadmin(req);
    await registries.update(caller.username, pathId(req.params.id, 'registry id'), bodyObject(req));
    return reply.code(200).send();
  });

  app.delete('/registries/:id', { schema: S.remove }, async (req: Req, reply) => {
    const caller = await auth.sysadmin(req);
    await registries.remove(caller.username, pathId(req.params.id, 'registry id'));
    return reply.code(200).send();
  });

  app.get('/registries/:id/info', { schema: S.info }, async (req: Req) => {
    await auth.sysadmin(req);
    return registries.info(pathId(req.params.id, 'registry id'));
  });

  app.get('/replication/adapters', { schema: S.adapters }, async (req) => {
    await auth.sysadmin(req);
    return registries.types();
  });

  app.get('/replication/adapterinfos', { schema: S.adapterInfos }, async (req) => {
    await auth.sysadmin(req);
    return registries.patterns();
  });
}
