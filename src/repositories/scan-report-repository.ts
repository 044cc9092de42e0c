// Scan reports (migration 22): one row per (artifact digest, scanner registration, report MIME type) with its
// status and the job that produced it. The built-in scanner's findings live with the artifact's stored inventory
// (artifact_inventories), so a re-match after an advisory import changes the report without touching this row;
// `report` holds an external scanner's document.
import { inList, type Queryable } from '../db/db.ts';

export type ScanStatus = 'Pending' | 'Running' | 'Success' | 'Error' | 'Stopped';

export interface ScanReportRow {
  id: string;
  digest: string;
  registrationUuid: string;
  mimeType: string;
  status: ScanStatus;
  statusMessage: string;
  executionId: number | null;
  taskId: number | null;
  projectId: number | null;
  repository: string;
  report: string | null;
  startTime: number;
  endTime: number | null;
}

interface Raw {
  id: string;
  digest: string;
  registration_uuid: string;
  mime_type: string;
  status: string;
  status_message: string;
  execution_id: number | null;
  task_id: number | null;
  project_id: number | null;
  repository: string;
  report: string | null;
  start_time: number;
  end_time: number | null;
}
const num = (v: number | null) => (v === null || v === undefined ? null : Number(v));
const toRow = (r: Raw): ScanReportRow => ({
  id: r.id,
  digest: r.digest,
  registrationUuid: r.registration_uuid,
  mimeType: r.mime_type,
  status: r.status as ScanStatus,
  statusMessage: r.status_message,
  executionId: num(r.execution_id),
  taskId: num(r.task_id),
  projectId: num(r.project_id),
  repository: r.repository,
  report: r.report,
  startTime: Number(r.start_time),
  endTime: num(r.end_time),
});

const CHUNK = 400;

export class ScanReportRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  /** Creates the report of (digest, registration, mime) or resets it to Pending for a new scan. */
  async saveReport(r: Omit<ScanReportRow, 'endTime' | 'report' | 'statusMessage'>, q: Queryable = this.db): Promise<void> {
    await q.run(
      `INSERT INTO scan_reports (id, digest, registration_uuid, mime_type, status, status_message, execution_id, task_id, project_id, repository, report, start_time, end_time)
       VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, NULL, ?, NULL)
       ON CONFLICT (digest, registration_uuid, mime_type) DO UPDATE SET id = excluded.id, status = excluded.status, status_message = '',
         execution_id = excluded.execution_id, task_id = excluded.task_id, project_id = excluded.project_id, repository = excluded.repository,
         report = NULL, start_time = excluded.start_time, end_time = NULL`,
      [r.id, r.digest, r.registrationUuid, r.mimeType, r.status, r.executionId, r.taskId, r.projectId, r.repository, r.startTime],
    );
  }
  async saveJob(id: string, executionId: number, taskId: number | null, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE scan_reports SET execution_id = ?, task_id = ? WHERE id = ?', [executionId, taskId, id]);
  }
  /** Moves a report on; a final status also sets end_time. Returns false when the report is already final. */
  async saveStatus(id: string, status: ScanStatus, message = '', q: Queryable = this.db): Promise<boolean> {
    const final = status === 'Success' || status === 'Error' || status === 'Stopped';
    const r = await q.run(
      `UPDATE scan_reports SET status = ?, status_message = ?, end_time = ?${status === 'Running' ? ', start_time = ?' : ''}
       WHERE id = ? AND status IN ('Pending', 'Running')`,
      status === 'Running' ? [status, message, null, Date.now(), id] : [status, message, final ? Date.now() : null, id],
    );
    return r.changes > 0;
  }
  async saveReportBody(id: string, body: string, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE scan_reports SET report = ? WHERE id = ?', [body, id]);
  }
  async findReport(id: string, q: Queryable = this.db): Promise<ScanReportRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scan_reports WHERE id = ?', [id]);
    return r ? toRow(r) : null;
  }
  async findReportOf(digest: string, registrationUuid: string, mimeType: string, q: Queryable = this.db): Promise<ScanReportRow | null> {
    const r = await q.get<Raw>('SELECT * FROM scan_reports WHERE digest = ? AND registration_uuid = ? AND mime_type = ?', [digest, registrationUuid, mimeType]);
    return r ? toRow(r) : null;
  }
  /** Reports of `digests` by any registration (the caller picks the scanner's). */
  async listReportsOf(digests: readonly string[], q: Queryable = this.db): Promise<ScanReportRow[]> {
    const out: ScanReportRow[] = [];
    for (let i = 0; i < digests.length; i += CHUNK) {
      const part = digests.slice(i, i + CHUNK);
      if (!part.length) continue;
      out.push(...(await q.all<Raw>(`SELECT * FROM scan_reports WHERE digest IN (${inList(part.length)})`, part)).map(toRow));
    }
    return out;
  }
  async listReportsOfExecution(executionId: number, q: Queryable = this.db): Promise<ScanReportRow[]> {
    return (await q.all<Raw>('SELECT * FROM scan_reports WHERE execution_id = ?', [executionId])).map(toRow);
  }

  /**
   * Scan-all candidates, a page at a time (keyset on manifest id): image manifests and indexes that no index in
   * their repository references (an index's children are scanned through it), signatures and other artifacts left out.
   */
  async listScanCandidates(afterId: number, limit: number, mediaTypes: readonly string[]): Promise<ScanCandidate[]> {
    const rows = await this.db.all<{ id: number; digest: string; media_type: string; repository: string; project_id: number; project_name: string; public: number; size: number; config_media_type: string | null }>(
      `SELECT m.id, m.digest, m.media_type, r.name AS repository, p.id AS project_id, p.name AS project_name, p.public, m.size, m.config_media_type
       FROM manifests m JOIN repositories r ON r.id = m.repository_id JOIN projects p ON p.id = r.project_id
       WHERE m.id > ? AND m.media_type IN (${inList(mediaTypes.length)}) AND m.subject_digest IS NULL
         AND NOT EXISTS (SELECT 1 FROM manifest_references x JOIN manifests pm ON pm.id = x.manifest_id
                         WHERE x.digest = m.digest AND x.kind = 'manifest' AND pm.repository_id = m.repository_id)
       ORDER BY m.id LIMIT ?`,
      [afterId, ...mediaTypes, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      digest: r.digest,
      mediaType: r.media_type,
      repository: r.repository,
      projectId: Number(r.project_id),
      projectName: r.project_name,
      projectPublic: !!Number(r.public),
      size: Number(r.size),
      configMediaType: r.config_media_type,
    }));
  }
}

export interface ScanCandidate {
  id: number;
  digest: string;
  mediaType: string;
  repository: string;
  projectId: number;
  projectName: string;
  projectPublic: boolean;
  size: number;
  configMediaType: string | null;
}
