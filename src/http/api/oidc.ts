// /api/v2.0/system/oidc/ping (Harbor's pingOIDC): does the URL serve a valid OIDC discovery document? Sysadmins only.
import type { FastifyInstance } from 'fastify';
import type { OidcService } from '../../services/oidc/oidc-service.ts';
import { bodyObject, type ApiAuth } from './context.ts';
import { bool, bodyOf, EMPTY, op, str } from './schemas.ts';

const S = {
  pingOIDC: op({
    operationId: 'pingOIDC',
    tag: 'oidc',
    summary: 'Test the OIDC endpoint.',
    description: 'Fetches the discovery document of the endpoint (its /.well-known/openid-configuration) and checks it names the endpoint as its issuer.',
    body: bodyOf('Request body for OIDC endpoint to be tested.', { url: str('The URL of OIDC endpoint to be tested.'), verify_cert: bool('Whether the certificate should be verified') }, ['url']),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 500],
  }),
};

export async function oidcRoutes(app: FastifyInstance, deps: { oidc: OidcService }, auth: ApiAuth): Promise<void> {
  app.post('/system/oidc/ping', { schema: S.pingOIDC }, async (req, reply) => {
    await auth.sysadmin(req);
    const b = bodyObject(req);
    await deps.oidc.ping(b.url, b.verify_cert);
    return reply.send();
  });
}
