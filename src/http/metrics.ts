// Prometheus metrics over HTTP: the request instrumentation of the main server (Harbor core's middleware:
// in-flight gauge, count by method/code/operation, duration summary) and the separate metrics listener
// (Harbor's metric.port, default 9090, serving metric.path). The main port never serves metrics.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';
import type { MetricsService } from '../services/metrics/metrics-service.ts';
import { registryOperation } from './v2/index.ts';

/**
 * Harbor's operation label: the swagger operationId of an /api/v2.0 route, v2_* for the registry protocol, and
 * "unknown" for everything else (token service, portal, not found), as Harbor labels its legacy routes.
 */
function operationOf(req: FastifyRequest): string {
  const id = (req.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId;
  if (typeof id === 'string') return id;
  const url = req.raw.url ?? '/';
  const path = url.split('?', 1)[0];
  if (path === '/v2' || path.startsWith('/v2/')) return registryOperation(path);
  return 'unknown';
}

/** Instruments every request of `app`; call before routes are registered. */
export function instrumentRequests(app: FastifyInstance, metrics: MetricsService): void {
  app.addHook('onRequest', (req, reply, done) => {
    const end = metrics.requestStarted();
    // 'close' fires once whether the response finished or the client went away mid-way (a blob pull cut off).
    reply.raw.once('close', () => end(req.method, reply.raw.statusCode, operationOf(req)));
    done();
  });
}

/** The metrics listener: GET metric.path answers the exposition; anything else is 404. */
export function buildMetricsServer(config: Config, metrics: MetricsService): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get(config.metric.path, async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.header('Content-Type', contentType).header('Cache-Control', 'no-store').send(body);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n'));
  return app;
}
