// /api/v2.0/quotas: Harbor's per-project storage quotas (sysadmin only). A quota's id is its project's id;
// hard.storage is the limit in bytes (-1 unlimited), used.storage the deduplicated size of the project's blobs.
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import { parseStorageLimit, QUOTA_SORT_FIELDS, type Quota, type QuotaService } from '../../services/registry/quota-service.ts';
import { parsePage, parseSort, setPageHeaders } from './query.ts';
import { bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './context.ts';
import { bodyOf, dateTime, EMPTY, int, mapOf, obj, op, PAGED, pageQuery, str } from './schemas.ts';

// Harbor's Quota, QuotaRefObject, ResourceList, QuotaUpdateReq.
const RESOURCES = mapOf({ type: 'integer', format: 'int64' }, 'ResourceList: storage in bytes (-1 unlimited)');
const QUOTA = obj({
  id: int('ID of the quota'),
  ref: { type: 'object', description: 'The reference object of the quota (the project: id, name)', additionalProperties: {} },
  hard: RESOURCES,
  used: RESOURCES,
  creation_time: { ...dateTime, description: 'the creation time of the quota' },
  update_time: { ...dateTime, description: 'the update time of the quota' },
});
const QID = { id: int('Quota ID') };
const S = {
  listQuotas: op({
    operationId: 'listQuotas',
    tag: 'quota',
    summary: 'List quotas',
    query: { ...pageQuery({ sort: true }), reference: str('The reference type of quota (project).'), reference_id: str('The reference id of quota (the project id).') },
    ok: { 200: PAGED(QUOTA) },
    errors: [401, 403, 500],
  }),
  getQuota: op({ operationId: 'getQuota', tag: 'quota', summary: 'Get the specified quota', params: QID, ok: { 200: QUOTA }, errors: [401, 403, 404, 500] }),
  updateQuota: op({
    operationId: 'updateQuota',
    tag: 'quota',
    summary: 'Update the specified quota',
    params: QID,
    body: bodyOf('QuotaUpdateReq', { hard: RESOURCES }, ['hard']),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 500],
  }),
};

function quotaJson(q: Quota) {
  return {
    id: q.id,
    ref: { id: q.projectId, name: q.projectName },
    hard: { storage: q.hard },
    used: { storage: q.used },
    creation_time: isoTime(q.createdAt),
    update_time: isoTime(q.updatedAt),
  };
}

export async function quotaRoutes(app: FastifyInstance, quotas: QuotaService, auth: ApiAuth): Promise<void> {
  app.get('/quotas', { schema: S.listQuotas }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const sort = parseSort(q.get('sort'), QUOTA_SORT_FIELDS);
    // Harbor's filters: reference (only "project" exists) and reference_id (the project id, which is the quota id).
    const reference = q.get('reference');
    const referenceId = q.get('reference_id');
    if ((reference !== null && reference !== 'project') || (referenceId !== null && !/^[0-9]{1,15}$/.test(referenceId))) {
      setPageHeaders(reply, req.raw.url ?? '', 0, page);
      return [];
    }
    if (referenceId !== null) {
      const one = Number(referenceId) > 0 ? await quotas.get(Number(referenceId)) : null;
      const items = one && page.offset === 0 ? [one] : [];
      setPageHeaders(reply, req.raw.url ?? '', one ? 1 : 0, page);
      return items.map(quotaJson);
    }
    const { total, items } = await quotas.list(page.limit, page.offset, sort);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map(quotaJson);
  });

  app.get<{ Params: { id: number } }>('/quotas/:id', { schema: S.getQuota }, async (req) => {
    await auth.sysadmin(req);
    const id = pathId(String(req.params.id));
    const q = await quotas.get(id);
    if (!q) throw ApiErrors.notFound(`quota ${id} not found`);
    return quotaJson(q);
  });

  app.put<{ Params: { id: number } }>('/quotas/:id', { schema: S.updateQuota }, async (req, reply) => {
    await auth.sysadmin(req);
    const id = pathId(String(req.params.id));
    const b = bodyObject(req);
    const hard = b.hard;
    if (!hard || typeof hard !== 'object' || Array.isArray(hard)) throw ApiErrors.badRequest('hard is required');
    const limit = parseStorageLimit((hard as Record<string, unknown>).storage, 'hard.storage');
    if (!(await quotas.setLimit(id, limit))) throw ApiErrors.notFound(`quota ${id} not found`);
    return reply.code(200).send();
  });
}
