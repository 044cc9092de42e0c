// A real OpenLDAP slapd for tests: temporary slapd.conf and mdb directory, a free port on 127.0.0.1, the memberof
// overlay (so users carry memberOf like AD), and an LDIF loaded online with ldapadd once it answers.
// Recipe: ../shared/research/feasibility.md §5.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';

const run = promisify(execFile);

export interface Slapd {
  url: string;
  port: number;
  baseDn: string;
  /** ldaps://127.0.0.1:<port> with a self-signed certificate, when started with `tls: true`. */
  ldapsUrl: string | null;
  /** The rootdn, used to load data and as the search (bind) DN in tests. */
  adminDn: string;
  adminPassword: string;
  /** Adds entries (LDIF text) while running. */
  add(ldif: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startSlapd(opts: { baseDn?: string; ldif?: string; tls?: boolean } = {}): Promise<Slapd> {
  const baseDn = opts.baseDn ?? 'dc=example,dc=test';
  const adminDn = `cn=admin,${baseDn}`;
  const adminPassword = 'slapd-admin-pw';
  const dir = mkdtempSync(join(tmpdir(), 'berth-slapd-'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  let tlsConf = '';
  if (opts.tls) {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    tlsConf = `TLSCertificateFile ${dir}/tls.crt\nTLSCertificateKeyFile ${dir}/tls.key\n`;
  }
  writeFileSync(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
${tlsConf}modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
database mdb
maxsize 104857600
suffix "${baseDn}"
rootdn "${adminDn}"
rootpw ${adminPassword}
directory ${dir}/db
index objectClass eq
index uid,cn,member eq
overlay memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
`,
  );
  await run('slaptest', ['-u', '-f', conf]);
  let port = 0;
  let tlsPort = 0;
  let child: ChildProcess | null = null;
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    tlsPort = opts.tls ? await freePort() : 0;
    const listen = `ldap://127.0.0.1:${port}/` + (opts.tls ? ` ldaps://127.0.0.1:${tlsPort}/` : '');
    const c = spawn('slapd', ['-f', conf, '-h', listen, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (log += d));
    c.stderr!.on('data', (d) => (log += d));
    const url = `ldap://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && c.exitCode === null) {
      const probe = new Client({ url, connectTimeout: 500, timeout: 1000 });
      try {
        await probe.bind(adminDn, adminPassword);
        await probe.unbind();
        child = c;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!child) c.kill('SIGKILL');
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`slapd did not start:\n${log}`);
  }
  const proc = child;
  const url = `ldap://127.0.0.1:${port}`;
  const add = async (ldif: string) => {
    const file = join(dir, `add-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
    writeFileSync(file, ldif);
    await run('ldapadd', ['-x', '-H', url, '-D', adminDn, '-w', adminPassword, '-f', file]);
  };
  if (opts.ldif) await add(opts.ldif);
  return {
    url,
    port,
    ldapsUrl: opts.tls ? `ldaps://127.0.0.1:${tlsPort}` : null,
    baseDn,
    adminDn,
    adminPassword,
    add,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
