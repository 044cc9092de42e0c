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

export async function startServer(config: Config): Promise<{ close(): Promise<void>; port: number }> {
  const started = Date.now();
  // The data directory holds the database and blobs: owner-only, also where an older version created it 0755.
  try {
    chmodSync(config.dataDir, 0o700);
  } catch (e) {
    process.emitWarning(`cannot restrict ${config.dataDir} to its owner: ${(e as Error).message}`);
  }
  const { services, bootstrap } = await buildServices(config);
  const app = buildHttpServer(config, services);
  // The metrics listener (metric.enabled) comes up first, so it is there when "listening" is printed.
  const metricsApp = services.metrics ? buildMetricsServer(config, services.metrics) : null;
  if (metricsApp) await metricsApp.listen({ host: config.http.host, port: config.metric.port });
  await app.listen({ host: config.http.host, port: config.http.port });
  const portOf = (a: typeof app, fallback: number) => {
    const addr = a.server.address();
    return typeof addr === 'object' && addr ? addr.port : fallback;
  };
  const port = portOf(app, config.http.port);
  const shown = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  process.stdout.write(`Berth listening on http://${shown}:${port} (database ${config.database.type}, data ${config.dataDir}) in ${Date.now() - started} ms\n`);
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
  services.replication.setLocalUrl(`http://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`);
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

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await Promise.all([app.close(), metricsApp?.close(), jobs.close(10_000)]);
      // Background proxy caching stops at its next step (what is half-fetched is dropped, never half-stored).
      await services.proxy.close();
      // After the HTTP server: events of the last requests are handed out before the audit sink and database close.
      await services.events.dispatcher.drain().catch(() => {});
      await services.events.dispatcher.stop();
      // Buffered audit events (pulls) are written before the database closes.
      await services.audit.close();
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
