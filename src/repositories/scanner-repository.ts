// Scanner registrations and the scanner each project chose (migration 22). The credential column holds what the
// secret box sealed; this repository never opens it.
import type { Queryable } from '../db/db.ts';

export interface ScannerRow {
  uuid: string;
  name: string;
  description: string;
  url: string;
  auth: string;
  /** Sealed (secret-box) Authorization value, '' when none. */
  accessCredential: string;
  skipCertVerify: boolean;
  useInternalAddr: boolean;
  disabled: boolean;
  isDefault: boolean;
  /** The built-in registration: cannot be changed or deleted. */
  immutable: boolean;
  createdAt: number;
  updatedAt: number;
}

interface Raw {
  uuid: string;
  name: string;
  description: string;
  url: string;
  auth: string;
  access_credential: string;
  skip_cert_verify: number;
  use_internal_addr: number;
  disabled: number;
  is_default: number;
  immutable: number;
  created_at: number;
  updated_at: number;
}
const toRow = (r: Raw): ScannerRow => ({
  uuid: r.uuid,
  name: r.name,
  description: r.description,
  url: r.url,
  auth: r.auth,
  accessCredential: r.access_credential,
  skipCertVerify: !!Number(r.skip_cert_verify),
  useInternalAddr: !!Number(r.use_internal_addr),
  disabled: !!Number(r.disabled),
  isDefault: !!Number(r.is_default),
  immutable: !!Number(r.immutable),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export type ScannerField = 'name' | 'description' | 'url';

export class ScannerRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  async listScanners(q: Queryable = this.db): Promise<ScannerRow[]> {
    return (await q.all<Raw>('SELECT * FROM scanner_registrations ORDER BY created_at, name')).map(toRow);
  }
  async findScanner(uuid: string, q: Queryable = this.db): Promise<ScannerRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scanner_registrations WHERE uuid = ?', [uuid]);
    return r ? toRow(r) : null;
  }
  async findScannerByName(name: string, q: Queryable = this.db): Promise<ScannerRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scanner_registrations WHERE name = ?', [name]);
    return r ? toRow(r) : null;
  }
  async findDefaultScanner(q: Queryable = this.db): Promise<ScannerRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scanner_registrations WHERE is_default = 1 ORDER BY updated_at DESC LIMIT 1');
    return r ? toRow(r) : null;
  }
  async findBuiltinScanner(q: Queryable = this.db): Promise<ScannerRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scanner_registrations WHERE immutable = 1 ORDER BY created_at LIMIT 1');
    return r ? toRow(r) : null;
  }
  /** Inserts unless a registration of that name exists (several processes may start at once); true when inserted. */
  async saveScannerIfAbsent(s: ScannerRow, q: Queryable = this.db): Promise<boolean> {
    const r = await q.run(
      `INSERT INTO scanner_registrations (uuid, name, description, url, auth, access_credential, skip_cert_verify, use_internal_addr, disabled, is_default, immutable, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [s.uuid, s.name, s.description, s.url, s.auth, s.accessCredential, +s.skipCertVerify, +s.useInternalAddr, +s.disabled, +s.isDefault, +s.immutable, s.createdAt, s.updatedAt],
    );
    return r.changes > 0;
  }
  async saveScanner(s: ScannerRow, q: Queryable = this.db): Promise<void> {
    await q.run(
      `UPDATE scanner_registrations SET name = ?, description = ?, url = ?, auth = ?, access_credential = ?, skip_cert_verify = ?, use_internal_addr = ?,
         disabled = ?, updated_at = ? WHERE uuid = ?`,
      [s.name, s.description, s.url, s.auth, s.accessCredential, +s.skipCertVerify, +s.useInternalAddr, +s.disabled, s.updatedAt, s.uuid],
    );
  }
  /** Makes `uuid` the only default registration. */
  async saveDefaultScanner(uuid: string, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE scanner_registrations SET is_default = CASE WHEN uuid = ? THEN 1 ELSE 0 END', [uuid]);
  }
  async removeScanner(uuid: string, q: Queryable = this.db): Promise<boolean> {
    await q.run('DELETE FROM project_scanners WHERE registration_uuid = ?', [uuid]);
    return (await q.run('DELETE FROM scanner_registrations WHERE uuid = ?', [uuid])).changes > 0;
  }

  async findProjectScanner(projectId: number, q: Queryable = this.db): Promise<string | null> {
    const r = await q.get<{ registration_uuid: string }>('SELECT registration_uuid FROM project_scanners WHERE project_id = ?', [projectId]);
    return r?.registration_uuid ?? null;
  }
  async saveProjectScanner(projectId: number, uuid: string, q: Queryable = this.db): Promise<void> {
    await q.run(
      'INSERT INTO project_scanners (project_id, registration_uuid) VALUES (?, ?) ON CONFLICT (project_id) DO UPDATE SET registration_uuid = excluded.registration_uuid',
      [projectId, uuid],
    );
  }
}
