// /api/v2.0/registries: the replication endpoints' list (Harbor's listRegistries, system admins only). Berth has
// no registry endpoints until replication lands, so the list is empty; harbor-cli's `project create` calls it
// first. `q`, `sort` and the deprecated `name` are still checked, so a bad query is a 400 as in Harbor.
import type { FastifyInstance } from 'fastify';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { queryOf, type ApiAuth } from './context.ts';
import { bool, dateTime, int, obj, op, PAGED, pageQuery, str } from './schemas.ts';

const REGISTRY = obj({
  id: int('The registry ID.'),
  url: str('The registry URL string.'),
  name: str('The registry name.'),
  type: str("Type of the registry, e.g. 'harbor'."),
  insecure: bool('Whether or not the certificate will be verified when Harbor tries to access the server.'),
  description: str('Description of the registry.'),
  status: str('Health status of the registry.'),
  creation_time: { ...dateTime, description: 'The create time of the policy.' },
  update_time: { ...dateTime, description: 'The update time of the policy.' },
});

const S = {
  listRegistries: op({
    operationId: 'listRegistries',
    tag: 'registry',
    summary: 'List the registries',
    query: { ...pageQuery({ q: true, sort: true }), name: str('Deprecated, use `q` instead.') },
    ok: { 200: PAGED(REGISTRY) },
    errors: [401, 403, 500],
  }),
};

export async function registryRoutes(app: FastifyInstance, auth: ApiAuth): Promise<void> {
  app.get('/registries', { schema: S.listRegistries }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    parseQ(q.get('q'), { name: { type: 'string', fuzzy: true }, type: { type: 'string' }, url: { type: 'string', fuzzy: true } } as const);
    parseSort(q.get('sort'), ['name', 'creation_time', 'update_time'] as const);
    setPageHeaders(reply, req.raw.url ?? '', 0, page);
    return [];
  });
}
