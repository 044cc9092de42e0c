// A second process for job-service.test.ts: a JobService on the given database (argv: sqlite|postgres,
// path-or-url, worker id) that runs 'ONCE' tasks and prints "ran <n> <worker>" per run, until SIGTERM.
import { SqliteDb } from '../../db/sqlite.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { JobRepository } from '../../repositories/job-repository.ts';
import { JobService } from './job-service.ts';

const [kind, where, workerId] = process.argv.slice(2);
const db = kind === 'postgres' ? new PostgresDb(where, 6) : new SqliteDb(where);
const js = new JobService({ repo: new JobRepository(db), maxWorkers: 4, pollMs: 20, leaseMs: 2000, workerId, onError: () => {} });
js.register('ONCE', async (ctx) => {
  process.stdout.write(`ran ${ctx.params.n} ${workerId}\n`);
  await new Promise((r) => setTimeout(r, 5 + ((ctx.params.n as number) % 7)));
});
js.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void js.close(2000).then(() => db.close()).then(() => process.exit(0));
});
