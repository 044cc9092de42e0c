// Starts the HTTP server and the job service (with the scheduled upload purge), and stops both cleanly on
// SIGTERM/SIGINT.
import { chmodSync } from 'node:fs';
import type { Config } from './config/config.ts';
import { buildServices, registryHostOf } from './app.ts';
import { buildHttpServer } from './http/server.ts';
import { buildMetricsServer } from './http/metrics.ts';
import { JobType } from './services/jobs/job-service.ts';
import { ADVISORY_UPDATE_JOB } from './services/scan/advisory-service.ts';
import { registerGcJob } from './services/registry/gc-job.ts';
import { registerPurgeAuditJob } from './services/audit/audit-purge-job.ts';
import { createRedirectServer, createTls } from './http/tls.ts';
import type { Server as HttpServer } from 'node:http';
import { logStream } from './logging/logger.ts';

export async function startServer(config: Config): Promise<{ close(): Promise<void>; port: number }> {
  const started = Date.now();
  // The data directory holds the database and blobs: owner-only, also where an older version created it 0755.
  try {
    chmodSync(config.dataDir, 0o700);
  } catch (e) {
    process.emitWarning(`cannot restrict ${config.dataDir} to its owner: ${(e as Error).message}`);
  }
  // TLS files are read (and the pair checked) before anything else opens, so a bad certificate stops the start.
  const tlsLog = (level: 'info' | 'error', msg: string) => process.stderr.write(`berth: ${level === 'error' ? 'error: ' : ''}${msg}\n`);
  const tls = config.https.enabled ? createTls(config, tlsLog) : null;
  // The log file too: one that cannot be created stops the start before anything runs (a ConfigError naming log.file).
  const logOut = config.log.level === 'silent' ? undefined : logStream(config.log);
  const { services, bootstrap } = await buildServices(config);
  const app = buildHttpServer(config, services, { ...(tls ? { serverFactory: tls.serverFactory as never } : {}), ...(logOut ? { logStream: logOut } : {}) });
  // The metrics listener (metric.enabled) comes up first, so it is there when "listening" is printed.
  const metricsApp = services.metrics ? buildMetricsServer(config, services.metrics) : null;
  if (metricsApp) await metricsApp.listen({ host: config.http.host, port: config.metric.port });
  // With TLS the main listener is the HTTPS one (https.port); http.port then only redirects (https.redirect_http).
  await app.listen({ host: config.http.host, port: tls ? config.https.port : config.http.port });
  const portOf = (a: typeof app, fallback: number) => {
    const addr = a.server.address();
    return typeof addr === 'object' && addr ? addr.port : fallback;
  };
  const port = portOf(app, tls ? config.https.port : config.http.port);
  const shown = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  let redirect: HttpServer | null = null;
  if (tls && config.https.redirectHttp) {
    redirect = createRedirectServer(config, () => port);
    await new Promise<void>((res, rej) => {
      redirect!.once('error', rej);
      redirect!.listen(config.http.port, config.http.host, () => res());
    });
  }
  const scheme = tls ? 'https' : 'http';
  const proto = tls ? (config.https.http2 ? ', TLS with HTTP/2 and HTTP/1.1' : ', TLS with HTTP/1.1') : '';
  process.stdout.write(`Berth listening on ${scheme}://${shown}:${port} (database ${config.database.type}, data ${config.dataDir}${proto}) in ${Date.now() - started} ms\n`);
  if (redirect) {
    const a = redirect.address();
    process.stdout.write(`HTTP on http://${shown}:${typeof a === 'object' && a ? a.port : config.http.port} redirects to HTTPS\n`);
  }
  if (tls) {
    tls.watch();
    // SIGHUP re-reads the certificate (as nginx does); a bad pair is reported and the old one kept.
    process.on('SIGHUP', () => tls.reload('SIGHUP'));
  }
  if (metricsApp) process.stdout.write(`Prometheus metrics at http://${shown}:${portOf(metricsApp, config.metric.port)}${config.metric.path}\n`);
  if (bootstrap.generatedAdminPassword)
    process.stdout.write(`Generated the initial password for user "admin" (shown once, change it after login): ${bootstrap.generatedAdminPassword}\n`);

  // Background work runs on the job service; the upload purge is a scheduled PURGE_UPLOAD job (fired by one
  // process per occurrence when several share the database).
  const { jobs } = services;
  jobs.register(
    JobType.PURGE_UPLOAD,
    async (ctx) => {
      const removed = await services.uploads.purge(Date.now() - config.registry.uploadIdleTimeout * 1000);
      ctx.log(`removed ${removed} idle upload sessions and stray upload directories`);
      return { purged: removed };
    },
    { retainExecutions: 50 },
  );
  registerGcJob(jobs, services.gc);
  registerPurgeAuditJob(jobs, services.auditLogs);
  services.retention.register();
  // Webhook deliveries name the port actually listened on (http.port 0 picks one).
  services.webhookDelivery.setRegistryHost(registryHostOf(config, port));
  services.webhookDelivery.register();
  // The replication engine reaches the local registry on this listener (any-address binds: through loopback).
  const localHost = config.http.host === '0.0.0.0' || config.http.host === '::' || !config.http.host ? '127.0.0.1' : config.http.host;
  services.replication.setLocalUrl(`${scheme}://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`);
  services.replication.register();
  // OSV advisory updates (scanner.advisories): import, then re-match stored inventories.
  // Without a source, a schedule left by an earlier configuration is removed.
  if (config.scanner.advisories) {
    await services.advisories.registerJob(jobs, config.scanner.advisories, config.scanner.advisoriesUpdateInterval);
    // A deployment that never imported gets its advisories now, not one interval after the first start.
    if (!(await services.advisories.repo.findLatestImport()) && !(await jobs.listExecutions({ vendorType: ADVISORY_UPDATE_JOB, limit: 1 })).length)
      await jobs.submit(ADVISORY_UPDATE_JOB, {}, 'manual');
  } else await jobs.unschedule(ADVISORY_UPDATE_JOB);
  // Scans (IMAGE_SCAN) and scan all (SCAN_ALL).
  services.scans.register();
  await jobs.schedule(JobType.PURGE_UPLOAD, `@every ${config.registry.uploadPurgeInterval}s`);
  jobs.start();
  services.events.dispatcher.start();

  // Graceful stop: the listener closes at once (a load balancer sends new connections elsewhere), requests on open
  // connections get 503, requests in flight (uploads) may finish for http.shutdown_timeout seconds; then their
  // connections are cut (an upload's session stays in the database, resumable on any process).
  const drainHttp = async () => {
    const s = app.server as { closeAllConnections?: () => void; closeIdleConnections?: () => void };
    const closed = app.close();
    // server.close() closes the connections idle at that moment only; a keep-alive connection whose request
    // finishes later would hold the exit until its client lets go.
    const idle = setInterval(() => s.closeIdleConnections?.(), 100);
    const cut = setTimeout(() => s.closeAllConnections?.(), config.http.shutdownTimeout * 1000);
    try {
      await closed;
    } finally {
      clearInterval(idle);
      clearTimeout(cut);
    }
  };
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      tls?.close();
      await Promise.all([drainHttp(), metricsApp?.close(), jobs.close(10_000), redirect && new Promise((r) => (redirect!.close(r), redirect!.closeAllConnections()))]);
      // Background proxy caching stops at its next step (what is half-fetched is dropped, never half-stored).
      await services.proxy.close();
      // After the HTTP server: events of the last requests are handed out before the audit sink and database close.
      await services.events.dispatcher.drain().catch(() => {});
      await services.events.dispatcher.stop();
      // Buffered audit events (pulls) are written before the database closes.
      await services.audit.close();
      await services.cacheBus.close();
      await services.db.close();
    })());
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  return { close, port };
}
