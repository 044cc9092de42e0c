#!/usr/bin/env -S node --max-semi-space-size=4
// The `berth` command line: `berth serve` starts the registry; `berth config` prints the effective config keys.
import { parseArgs } from 'node:util';
import { ConfigError, describeKeys, loadConfig } from './config/config.ts';

const HELP = `Berth — an enterprise container registry (Harbor-compatible API) in one process.

Usage:
  berth serve [--config FILE]    start the registry (default: embedded SQLite + ./data, port 5000)
  berth config [--config FILE]   validate the configuration and print it
  (FILE may be Harbor's harbor.yml: its keys are mapped onto Berth's, see docs/operator-guide.md)
  berth --help                   this help

Configuration comes from a YAML file (--config or BERTH_CONFIG) with BERTH_* environment overrides:
${describeKeys()
  .map((l) => '  ' + l)
  .join('\n')}
`;

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
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`berth: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const cmd = parsed.positionals[0];
  if (parsed.values.help || cmd === 'help' || cmd === undefined) {
    process.stdout.write(HELP);
    return cmd === undefined && !parsed.values.help ? 2 : 0;
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
  process.stderr.write(`berth: unknown command ${cmd}\n\n${HELP}`);
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
