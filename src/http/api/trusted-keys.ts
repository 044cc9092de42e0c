// /api/v2.0/projects/{project_name_or_id}/trusted-keys — Berth's own extension (Harbor has no such API): the
// cosign public keys and notation certificates a pull must verify against when the project's content trust policy
// is on (services/signature/). Project members read them (configuration:read; they are public keys); project
// admins and system admins add and remove them (configuration:update). Changes are audited.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Policy } from '../../services/auth/rbac.ts';
import { trustedKeyView, type TrustedKeyService } from '../../services/signature/trusted-key-service.ts';
import { actorOf, plainJson, projectFor } from './artifact-access.ts';
import { API_PREFIX, bodyObject, headerFlag, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { bodyOf, CREATED, EMPTY, int, obj, op, PAGED, pageQuery, str } from './schemas.ts';

const TAG = 'trusted-key';
const P = { project_name_or_id: str('The name or id of the project (a name when X-Is-Resource-Name: true)') };
const PK = { ...P, key_id: int('The ID of the trusted key') };
const KEY = obj({
  id: int(),
  project_id: int(),
  name: str(),
  kind: { type: 'string', enum: ['cosign', 'notation'] },
  pem: str('A cosign PEM public key, or one PEM certificate for notation'),
  fingerprint: str('sha256:<hex> of the DER public key or certificate'),
  creator: str(),
  creation_time: { type: 'string', format: 'date-time' },
});
const NEW_KEY = bodyOf(
  'A trusted key',
  { name: str('Unique in the project'), kind: { type: 'string', enum: ['cosign', 'notation'] }, pem: str('cosign.pub, or a notation certificate (PEM)') },
  ['name', 'kind', 'pem'],
);
const S = {
  list: op({ operationId: 'ListTrustedKeys', tag: TAG, summary: "List the project's trusted signature keys (Berth extension)", params: P, query: pageQuery(), ok: { 200: PAGED(KEY) }, errors: [400, 401, 403, 404, 500] }),
  create: op({ operationId: 'CreateTrustedKey', tag: TAG, summary: 'Register a trusted cosign key or notation certificate (Berth extension)', params: P, body: NEW_KEY, ok: { 201: CREATED }, errors: [400, 401, 403, 404, 409, 500] }),
  remove: op({ operationId: 'DeleteTrustedKey', tag: TAG, summary: 'Remove a trusted key (Berth extension)', params: PK, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
};

type Req = FastifyRequest<{ Params: { project_name_or_id: string; key_id?: string } }>;

export async function trustedKeyRoutes(app: FastifyInstance, deps: ApiDeps & { trustedKeys: TrustedKeyService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { trustedKeys } = deps;
  const access = (req: Req, needed: Policy) => projectFor(deps, auth, req, req.params.project_name_or_id, needed, headerFlag(req, 'X-Is-Resource-Name'));
  const base = '/projects/:project_name_or_id/trusted-keys';

  app.get(base, { schema: S.list }, async (req: Req, reply) => {
    const { project } = await access(req, 'configuration:read');
    const page = parsePage(queryOf(req));
    const all = await trustedKeys.list(project.id);
    setPageHeaders(reply, req.raw.url ?? '', all.length, page);
    return all.slice(page.offset, page.offset + page.limit).map(trustedKeyView);
  });

  app.post(base, { schema: S.create }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'configuration:update');
    const id = await trustedKeys.create(actorOf(caller), project, bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/projects/${encodeURIComponent(req.params.project_name_or_id)}/trusted-keys/${id}`).send();
  });

  app.delete(`${base}/:key_id`, { schema: S.remove }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'configuration:update');
    await trustedKeys.remove(actorOf(caller), project, pathId(req.params.key_id, 'trusted key id'));
    return reply.code(200).send();
  });
}
