// /api/v2.0/projects/{project_name_or_id}/immutabletagrules: Harbor's immutable tag rule API (handler/immutable.go).
// RBAC on immutable-tag (project admins and maintainers, system admins; others 403, anonymous 401, a project
// the caller cannot see 404). Rules are enforced by the registry and artifact services, not here.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Policy } from '../../services/auth/rbac.ts';
import type { ImmutabilityService } from '../../services/artifact/immutability-service.ts';
import { actorOf, plainJson, projectFor } from './artifact-access.ts';
import { API_PREFIX, bodyObject, headerFlag, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { bool, CREATED, EMPTY, int, mapOf, obj, op, PAGED, pageQuery, str } from './schemas.ts';

const TAG = 'immutable';
const P = { project_name_or_id: str('The name or id of the project (a name when X-Is-Resource-Name: true)') };
const PR = { ...P, immutable_rule_id: int('The ID of the immutable rule') };
const SELECTOR = obj({ kind: str(), decoration: str(), pattern: str(), extras: str() });
const RULE = obj({
  id: int(),
  priority: int(),
  disabled: bool(),
  action: str(),
  template: str(),
  params: mapOf({ type: 'object' }),
  tag_selectors: { type: 'array', items: SELECTOR },
  scope_selectors: mapOf({ type: 'array', items: SELECTOR }),
});
// The body is checked by the service; the schema documents it.
const S = {
  list: op({ operationId: 'ListImmuRules', tag: TAG, summary: 'List all immutable tag rules of current project', params: P, query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(RULE) }, errors: [400, 401, 403, 500] }),
  create: op({ operationId: 'CreateImmuRule', tag: TAG, summary: 'Add an immutable tag rule to current project', params: P, body: RULE, ok: { 201: CREATED }, errors: [400, 401, 403, 404, 500] }),
  update: op({ operationId: 'UpdateImmuRule', tag: TAG, summary: 'Update the immutable tag rule or enable or disable the rule', params: PR, body: RULE, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
  remove: op({ operationId: 'DeleteImmuRule', tag: TAG, summary: 'Delete the immutable tag rule.', params: PR, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
};

type Req = FastifyRequest<{ Params: { project_name_or_id: string; immutable_rule_id?: string } }>;

export async function immutableRoutes(app: FastifyInstance, deps: ApiDeps & { immutability: ImmutabilityService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { immutability } = deps;
  const access = (req: Req, action: 'list' | 'create' | 'update' | 'delete') =>
    projectFor(deps, auth, req, req.params.project_name_or_id, `immutable-tag:${action}` as Policy, headerFlag(req, 'X-Is-Resource-Name'));
  const ruleId = (req: Req) => pathId(req.params.immutable_rule_id, 'immutable rule id');
  const base = '/projects/:project_name_or_id/immutabletagrules';

  app.get(base, { schema: S.list }, async (req: Req, reply) => {
    const { project } = await access(req, 'list');
    const page = parsePage(queryOf(req));
    const r = await immutability.list(project.id, page);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items;
  });

  app.post(base, { schema: S.create }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'create');
    const id = await immutability.create(actorOf(caller), project.id, bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/projects/${encodeURIComponent(req.params.project_name_or_id)}/immutabletagrules/${id}`).send();
  });

  app.put(`${base}/:immutable_rule_id`, { schema: S.update }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'update');
    await immutability.update(actorOf(caller), project.id, ruleId(req), bodyObject(req));
    return reply.code(200).send();
  });

  app.delete(`${base}/:immutable_rule_id`, { schema: S.remove }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'delete');
    await immutability.remove(actorOf(caller), project.id, ruleId(req));
    return reply.code(200).send();
  });
}
