// The Fastify instance: /v2 (registry protocol) and /service/token. The management API and portal mount here too.
import Fastify, { LogController, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Config } from '../config/config.ts';
import type { Services } from '../app.ts';
import { Errors } from '../errors.ts';
import { sendHarborError, sendOciError } from './errors.ts';
import { tokenRoutes } from './token.ts';
import { V2Auth } from './v2/auth.ts';
import { v2Routes } from './v2/index.ts';
import { apiRoutes } from './api/index.ts';
import { Portal, portalRoutes } from './portal.ts';
import { readOnlyHook } from './read-only.ts';
import { registerOpenApi, SCHEMA_CONTROLLER } from './api/openapi.ts';
import { portalSessionRoutes } from './portal-session.ts';
import { instrumentRequests } from './metrics.ts';
import { enforceBodyRate, limitConnections } from './slow-clients.ts';
import { logStream, requestId } from '../logging/logger.ts';

export function buildHttpServer(config: Config, services: Services, opts: { serverFactory?: FastifyServerFactory; logStream?: { write(chunk: string): unknown } } = {}): FastifyInstance {
  const app = Fastify({
    // Built-in TLS (http/tls.ts) brings its own secure server.
    ...(opts.serverFactory ? { serverFactory: opts.serverFactory } : {}),
    logger: config.log.level === 'silent' ? false : { level: config.log.level, stream: opts.logStream ?? logStream(config.log) },
    // Every route's request id (X-Request-Id in and out), and pino's records of a request carry it as req_id.
    genReqId: (req) => requestId(req.headers['x-request-id']),
    requestIdHeader: false,
    // Blob uploads may take long: no overall request timeout; a body slower than http.body_min_rate is cut off
    // (slow-clients.ts) and idle sockets are closed by keepAliveTimeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    bodyLimit: 1024 * 1024,
    exposeHeadRoutes: false,
    schemaController: SCHEMA_CONTROLLER,
    return503OnClosing: true,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    frameworkErrors: (err, req, reply) => {
      const url = req.raw.url ?? '';
      const e = Errors.nameInvalid(url.slice(0, 200), `malformed request: ${err.message}`);
      return url.startsWith('/v2') ? sendOciError(reply, e) : sendHarborError(reply, e);
    },
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
  // One record per request (Fastify's own request logging is off: it would log the URL with its query and
  // the headers). Path without the query string, so nothing a client put there lands in the log.
  app.addHook('onResponse', async (req, reply) => {
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    req.log.info({ method: req.method, path: q < 0 ? url : url.slice(0, q), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  limitConnections(app.server, config.http);
  enforceBodyRate(app, config.http);
  // First: its onRoute hook collects every route registered after it.
  registerOpenApi(app);
  // HTTP/2 has no Host header (it sends :authority); the handlers that derive URLs read Host.
  if (config.https.enabled && config.https.http2)
    app.addHook('onRequest', async (req) => {
      if (req.headers.host === undefined && typeof req.headers[':authority'] === 'string') req.headers.host = req.headers[':authority'];
    });
  // Before everything else runs, so refused and failed requests are counted too (Harbor's outermost middleware).
  if (services.metrics) instrumentRequests(app, services.metrics);
  // Read-only mode: unsafe requests are refused before anything else runs (each scope renders the error).
  app.addHook('onRequest', readOnlyHook(() => services.system.readOnly()));
  const v2Auth = new V2Auth(services.auth, services.policy, config.http.externalUrl);
  app.register(async (scope) =>
    v2Routes(scope, { config, auth: v2Auth, blobs: services.blobs, uploads: services.uploads, manifests: services.manifests, proxy: services.proxy, pullPolicy: services.scans, contentTrust: services.signatures.contentTrust }),
  );
  app.register(async (scope) => tokenRoutes(scope, services.auth, services.sessions));
  app.register(async (scope) => portalSessionRoutes(scope, { config, sessions: services.sessions, oidc: services.oidc }));
  app.register(async (scope) =>
    apiRoutes(scope, { config, auth: services.auth, policy: services.policy, users: services.users, projects: services.projects, jobs: services.jobs, quotas: services.quotas, artifactDomain: services.artifactDomain, sessions: services.sessions, robots: services.robots, configs: services.configs, groups: services.groups, ldap: services.ldap, ldapAuth: services.ldapAuth, oidc: services.oidc, auditQueries: services.auditQueries, system: services.system, webhooks: services.webhooks, registries: services.registries, retention: services.retention, replication: services.replication, scanners: services.scanners, scans: services.scans, systemAllowlist: services.systemAllowlist, trustedKeys: services.signatures.trustedKeys }),
  );
  const portal = new Portal();
  app.register(async (scope) => portalRoutes(scope, portal));
  app.setNotFoundHandler((req, reply) =>
    portal.fallback(req, reply)
      ? reply
      : req.url.startsWith('/v2')
      ? sendOciError(reply, Errors.unsupported('not found'))
      : sendHarborError(reply, Object.assign(new Error('not found'), { statusCode: 404 })),
  );
  return app;
}
