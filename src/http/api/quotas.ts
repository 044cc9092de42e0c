// /api/v2.0/quotas: Harbor's per-project storage quotas (sysadmin only). A quota's id is its project's id;
// hard.storage is the limit in bytes (-1 unlimited), used.storage the deduplicated size of the project's blobs.
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import { parseStorageLimit, type Quota, type QuotaService } from '../../services/registry/quota-service.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './index.ts';

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
  app.get('/quotas', async (req, reply) => {
    await auth.sysadmin(req);
    const page = parsePage(queryOf(req));
    const { total, items } = await quotas.list(page.limit, page.offset);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map(quotaJson);
  });

  app.get<{ Params: { id: string } }>('/quotas/:id', async (req) => {
    await auth.sysadmin(req);
    const id = pathId(req.params.id);
    const q = await quotas.get(id);
    if (!q) throw ApiErrors.notFound(`quota ${id} not found`);
    return quotaJson(q);
  });

  app.put<{ Params: { id: string } }>('/quotas/:id', async (req, reply) => {
    await auth.sysadmin(req);
    const id = pathId(req.params.id);
    const b = bodyObject(req);
    const hard = b.hard;
    if (!hard || typeof hard !== 'object' || Array.isArray(hard)) throw ApiErrors.badRequest('hard is required');
    const limit = parseStorageLimit((hard as Record<string, unknown>).storage, 'hard.storage');
    if (!(await quotas.setLimit(id, limit))) throw ApiErrors.notFound(`quota ${id} not found`);
    return reply.code(200).send();
  });
}
