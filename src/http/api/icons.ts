// GET /api/v2.0/icons/{digest}: Harbor's Icon model ({"content-type", content: base64}) for the built-in
// artifact-type icons named by the artifacts' `icon` field. Like Harbor, no permission is needed: the icons are
// fixed images, not registry content.
import type { FastifyInstance } from 'fastify';
import { getIcon } from '../../services/icon/icons.ts';

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };

export async function iconRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { digest: string } }>('/icons/:digest', {
    schema: {
      operationId: 'getIcon',
      tags: ['icon'],
      summary: 'Get the built-in artifact icon with the given digest.',
      params: { type: 'object', properties: { digest: { type: 'string' } }, required: ['digest'] },
      response: {
        200: { type: 'object', properties: { 'content-type': { type: 'string' }, content: { type: 'string' } } },
        400: ERRORS,
        404: ERRORS,
        500: ERRORS,
      },
    },
  }, async (req) => getIcon(req.params.digest));
}
