// Child process for GC crash tests: builds the services of the deployment in BERTH_* env, runs one GC and
// prints its report (BERTH_TEST_CRASH_AT may kill it half-way).
import { buildServices } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';

const { services } = await buildServices(loadConfig({ env: process.env }));
const report = await services.gc.run({ deleteUntagged: true, workers: 2, batchSize: Number(process.env.BERTH_TEST_GC_BATCH ?? 200) });
process.stdout.write(JSON.stringify(report) + '\n');
await services.db.close();
// Other handles (the PostgreSQL cache-invalidation listener) would keep the process alive: the run is done.
process.exit(0);
