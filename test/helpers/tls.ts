// A throw-away certificate authority for TLS tests, made with the openssl CLI in a temp dir: a CA, and server
// certificates it signs for 127.0.0.1 / localhost. Clients are told to trust the CA (never to skip verification).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** CA certificate (PEM file). */
  caCert: string;
  caKey: string;
  /** Issues a server certificate for 127.0.0.1 and localhost; returns the PEM file paths. */
  issue(name: string, opts?: { cn?: string; ips?: string[] }): { cert: string; key: string };
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

export function createTestCa(label = 'Berth Test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ca-'));
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', `/CN=${label}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let serial = 1;
  return {
    dir,
    caCert,
    caKey,
    issue(name, opts = {}) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const cert = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${opts.cn ?? name}`], dir);
      const san = ['IP:127.0.0.1', 'DNS:localhost', ...(opts.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
      writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', String(serial++ + Date.now()), '-days', '2', '-extfile', ext, '-out', cert], dir);
      return { cert, key };
    },
  };
}

/** A non-loopback IPv4 address of this machine (clients such as docker treat 127.0.0.0/8 as insecure and skip verification). */
export function nonLoopbackIpv4(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

/** SHA-256 fingerprint of a PEM certificate file, as node's TLS peer certificate reports it (AA:BB:…). */
export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** Base64 SHA-256 of the certificate's public key (Chromium's --ignore-certificate-errors-spki-list pins exactly it). */
export function spkiHash(certFile: string): string {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
