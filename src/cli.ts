#!/usr/bin/env -S node --max-semi-space-size=4
// The `berth` command line: `berth serve` starts the registry; `berth config` prints the effective config keys;
// the admin commands (migrate, reset-admin-password, gc, doctor, backup, restore) work on the configured
// deployment from this process, also while servers run on it.
import { parseArgs } from 'node:util';
import { ConfigError, describeKeys, loadConfig } from './config/config.ts';

const HELP = `Berth — an enterprise container registry (Harbor-compatible API) in one process.

Usage:
  berth serve [--config FILE]    start the registry (default: embedded SQLite + ./data, port 5000)
  berth config [--config FILE]   validate the configuration and print it
  berth migrate [--status]       apply pending database migrations and exit (--status: list applied/pending)
  berth reset-admin-password     set admin's password (read from stdin, or prompted) and unlock the account
  berth gc [--dry-run] [--delete-untagged]   run garbage collection now and print the report
  berth doctor [--json]          check database, schema, storage, clock, free space, orphaned blobs
  berth backup DIR               consistent snapshot of the database and its blobs, while serving
  berth restore DIR [--force]    restore a backup into a fresh data directory / database / storage
  (FILE may be Harbor's harbor.yml: its keys are mapped onto Berth's, see docs/operator-guide.md)
  berth COMMAND --help           help for one command
  berth --help                   this help

Configuration comes from a YAML file (--config or BERTH_CONFIG) with BERTH_* environment overrides:
${describeKeys()
  .map((l) => '  ' + l)
  .join('\n')}
`;

// Per command: its options (besides --config and --help) and its help text.
const COMMANDS: Record<string, { options: Record<string, { type: 'boolean' | 'string' }>; positionals: number; help: string }> = {
  serve: { options: {}, positionals: 0, help: 'berth serve [--config FILE]\n  Starts the registry.\n' },
  config: { options: {}, positionals: 0, help: 'berth config [--config FILE]\n  Validates the configuration and prints it (secrets masked).\n' },
  migrate: {
    options: { status: { type: 'boolean' }, json: { type: 'boolean' } },
    positionals: 0,
    help: 'berth migrate [--status [--json]] [--config FILE]\n  Applies pending database migrations and exits (safe while servers run).\n  --status  lists every migration as applied or pending, changes nothing\n  --json    with --status: machine-readable output\n',
  },
  'reset-admin-password': {
    options: {},
    positionals: 0,
    help: "berth reset-admin-password [--config FILE]\n  Sets the password of the user admin, read from stdin (first line) or prompted on a terminal,\n  with the API's password rules (8-128 characters, upper- and lower-case letters and a digit);\n  unlocks admin and writes an audit log entry.\n",
  },
  gc: {
    options: { 'dry-run': { type: 'boolean' }, 'delete-untagged': { type: 'boolean' }, workers: { type: 'string' }, json: { type: 'boolean' } },
    positionals: 0,
    help: 'berth gc [--dry-run] [--delete-untagged] [--workers N] [--json] [--config FILE]\n  Runs garbage collection now in this process (safe while servers run) and prints the report.\n  --dry-run          count what would be deleted, delete nothing\n  --delete-untagged  also delete untagged manifests older than registry.gc_grace\n  --workers N        parallel deletion batches (1-10, default 1)\n  --json             the report as JSON\n',
  },
  doctor: {
    options: { json: { type: 'boolean' } },
    positionals: 0,
    help: 'berth doctor [--json] [--config FILE]\n  Checks: database reachable, schema current, storage write/read/delete, clock skew vs PostgreSQL,\n  free space of the data and storage directories, storage files without rows and rows without files.\n  Read-only. Exits 1 when a check fails.\n  --json  machine-readable output\n',
  },
  backup: {
    options: {},
    positionals: 1,
    help: 'berth backup DIR [--config FILE]\n  Writes a consistent backup of the running deployment into DIR (new or empty): the database\n  (SQLite: VACUUM INTO; PostgreSQL: pg_dump of one snapshot) and every blob it references, read\n  through the storage driver. Blob deletion by GC is held until the copy is done.\n',
  },
  restore: {
    options: { force: { type: 'boolean' } },
    positionals: 1,
    help: 'berth restore DIR [--force] [--config FILE]\n  Restores a backup into the configured deployment, which must be fresh: an empty data directory\n  (SQLite) or database (PostgreSQL) and an empty blob storage. --force restores over existing data.\n',
  },
};

function readPassword(): Promise<string> {
  // Piped: the first line of stdin. On a terminal: a prompt that does not echo.
  if (!process.stdin.isTTY) {
    return new Promise((res, rej) => {
      let data = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (d) => (data += d));
      process.stdin.on('end', () => res(data.split(/\r?\n/)[0]));
      process.stdin.on('error', rej);
    });
  }
  return new Promise((res) => {
    process.stderr.write('New password for admin: ');
    process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    let pw = '';
    const onData = (c: string) => {
      for (const ch of c) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          process.stdin.setRawMode(false);
          process.stdin.off('data', onData);
          process.stdin.pause();
          process.stderr.write('\n');
          return res(pw);
        }
        if (ch === '\u0003') process.exit(130);
        pw = ch === '\u007f' ? pw.slice(0, -1) : pw + ch;
      }
    };
    process.stdin.on('data', onData);
  });
}

function maskUrlPassword(url: string): string {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '<set>';
    return u.toString().replace('%3Cset%3E', '<set>');
  } catch {
    return '<set>';
  }
}

async function main(argv: string[]): Promise<number> {
  const first = argv.find((a) => !a.startsWith('-'));
  const spec = first ? COMMANDS[first] : undefined;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, ...spec?.options } });
  } catch (e) {
    process.stderr.write(`berth: ${(e as Error).message}\n\n${spec?.help ?? HELP}`);
    return 2;
  }
  const cmd = parsed.positionals[0];
  if (spec && parsed.values.help) {
    process.stdout.write(spec.help);
    return 0;
  }
  if (parsed.values.help || cmd === 'help' || cmd === undefined) {
    process.stdout.write(HELP);
    return cmd === undefined && !parsed.values.help ? 2 : 0;
  }
  if (spec && parsed.positionals.length - 1 !== spec.positionals) {
    process.stderr.write(`berth: ${cmd}: ${spec.positionals ? 'DIR is required' : 'unexpected argument'}\n\n${spec.help}`);
    return 2;
  }
  const file = parsed.values.config ?? process.env.BERTH_CONFIG;
  let config;
  try {
    config = loadConfig({ file, env: process.env });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`berth: ${e.message}\n`);
      return 78;
    }
    throw e;
  }
  if (cmd === 'config') {
    process.stdout.write(
      JSON.stringify(
        {
          ...config,
          auth: { ...config.auth, adminInitialPassword: config.auth.adminInitialPassword ? '<set>' : '' },
          // a PostgreSQL URL may carry the password (external_database.harbor.password)
          database: { ...config.database, postgresUrl: maskUrlPassword(config.database.postgresUrl) },
          // may hold ldap_search_password
          configurations: { overwriteJson: config.configurations.overwriteJson ? '<set>' : '' },
          storage: config.storage.type === 's3' ? { ...config.storage, secretKey: config.storage.secretKey ? '<set>' : '' } : config.storage,
          notification: { ...config.notification, webhookSigningSecret: config.notification.webhookSigningSecret ? '<set>' : '' },
          // an advisory URL's query may carry a token
          scanner: { ...config.scanner, advisories: config.scanner.advisories.replace(/\?.*$/s, '?<set>') },
          security: { ...config.security, secretKey: config.security.secretKey ? '<set>' : '' },
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (cmd === 'serve') {
    // Loaded only here, so --help and config answer without loading the server stack.
    const { startServer } = await import('./server-main.ts');
    // Everything Berth creates (database, blobs, uploads, keys) is for its own user only.
    process.umask(0o077);
    try {
      await startServer(config);
    } catch (e) {
      // Settings checked by the services at start (e.g. configurations.overwrite_json keys and types).
      if (e instanceof ConfigError) {
        process.stderr.write(`berth: ${e.message}\n`);
        return 78;
      }
      throw e;
    }
    return -1; // keep running
  }
  if (spec) return adminCommand(cmd, parsed.values as Record<string, string | boolean | undefined>, parsed.positionals.slice(1), config);
  process.stderr.write(`berth: unknown command ${cmd}\n\n${HELP}`);
  return 2;
}

async function adminCommand(cmd: string, v: Record<string, string | boolean | undefined>, args: string[], config: import('./config/config.ts').Config): Promise<number> {
  // Loaded only here, like the server stack.
  const admin = await import('./admin/commands.ts');
  const { AdminError, backup, restore } = await import('./admin/backup.ts');
  const out = (s: string) => process.stdout.write(s);
  const log = (s: string) => process.stderr.write(`berth ${cmd}: ${s}\n`);
  try {
    switch (cmd) {
      case 'migrate':
        return await admin.migrateCommand(config, { status: !!v.status, json: !!v.json }, out);
      case 'reset-admin-password':
        return await admin.resetAdminPassword(config, await readPassword(), out);
      case 'gc': {
        const workers = v.workers === undefined ? 1 : Number(v.workers);
        if (!Number.isInteger(workers) || workers < 1 || workers > 10) throw new AdminError('--workers must be an integer from 1 to 10');
        return await admin.gcCommand(config, { dryRun: !!v['dry-run'], deleteUntagged: !!v['delete-untagged'], workers, json: !!v.json }, out);
      }
      case 'doctor':
        return await admin.doctor(config, { json: !!v.json }, out);
      case 'backup': {
        const m = await backup(config, args[0], log);
        out(`backup written to ${args[0]}: ${m.database} database, ${m.blobs} blobs, ${m.bytes} bytes\n`);
        return 0;
      }
      case 'restore': {
        const m = await restore(config, args[0], { force: !!v.force }, log);
        out(`restored ${args[0]} (backup of ${m.createdAt}): ${m.database} database, ${m.blobs} blobs\n`);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof AdminError) {
      process.stderr.write(`berth ${cmd}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    process.stderr.write(`berth: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
