// The event outbox tables: `events` (one row per domain event, seq in commit order) and `event_cursors` (the last
// seq each subscriber has handled). Written and read only through services/events.
import type { Param, Queryable } from '../db/db.ts';
import type { DomainEvent, EventType } from '../events.ts';

// Rows per INSERT: 6 parameters each, well under both databases' parameter limits.
const INSERT_CHUNK = 500;

const toEvent = (r: Record<string, unknown>): DomainEvent => ({
  seq: Number(r.seq),
  id: String(r.id),
  type: String(r.type) as EventType,
  operator: String(r.operator),
  projectId: r.project_id === null || r.project_id === undefined ? null : Number(r.project_id),
  data: JSON.parse(String(r.data)) as DomainEvent['data'],
  occurredAt: Number(r.occurred_at),
});

export class EventRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  /** Inserts events (ids already assigned) and returns the largest seq written. */
  async saveEvents(events: readonly Omit<DomainEvent, 'seq'>[], q: Queryable = this.db): Promise<number> {
    let max = 0;
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const part = events.slice(i, i + INSERT_CHUNK);
      const params: Param[] = [];
      for (const e of part) params.push(e.id, e.type, e.operator, e.projectId, JSON.stringify(e.data), e.occurredAt);
      const rows = await q.all<{ seq: unknown }>(
        `INSERT INTO events (id, type, operator, project_id, data, occurred_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} RETURNING seq`,
        params,
      );
      for (const r of rows) max = Math.max(max, Number(r.seq));
    }
    return max;
  }

  /** Events after `seq`, oldest first, at most `limit`. */
  async listEventsAfter(seq: number, limit: number, q: Queryable = this.db): Promise<DomainEvent[]> {
    const rows = await q.all('SELECT seq, id, type, operator, project_id, data, occurred_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [seq, limit]);
    return rows.map(toEvent);
  }

  async findMaxSeq(q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ m: unknown }>('SELECT MAX(seq) AS m FROM events');
    return Number(r?.m ?? 0);
  }

  /** Creates a cursor at `seq` unless it exists (another process may create it at the same time). */
  async saveCursorIfAbsent(name: string, seq: number, q: Queryable = this.db): Promise<void> {
    await q.run('INSERT INTO event_cursors (name, last_seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, seq, Date.now()]);
  }

  /**
   * Reads and locks a subscriber's cursor for the rest of the transaction `q`. On PostgreSQL a cursor another
   * process holds is skipped (null: it is being handled there); SQLite transactions are serialised anyway.
   */
  async claimCursor(name: string, q: Queryable): Promise<number | null> {
    const lock = q.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const r = await q.get<{ last_seq: unknown }>(`SELECT last_seq FROM event_cursors WHERE name = ?${lock}`, [name]);
    return r ? Number(r.last_seq) : null;
  }

  async saveCursor(name: string, seq: number, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE event_cursors SET last_seq = ?, updated_at = ? WHERE name = ?', [seq, Date.now(), name]);
  }

  async findCursor(name: string, q: Queryable = this.db): Promise<number | null> {
    const r = await q.get<{ last_seq: unknown }>('SELECT last_seq FROM event_cursors WHERE name = ?', [name]);
    return r ? Number(r.last_seq) : null;
  }

  /** The cursors of these subscribers (absent ones are missing from the map); a plain read, no lock. */
  async listCursors(names: readonly string[], q: Queryable = this.db): Promise<Map<string, number>> {
    if (!names.length) return new Map();
    const rows = await q.all<{ name: string; last_seq: unknown }>(`SELECT name, last_seq FROM event_cursors WHERE name IN (${names.map(() => '?').join(',')})`, [...names]);
    return new Map(rows.map((r) => [r.name, Number(r.last_seq)]));
  }

  /** Deletes events that every listed cursor has passed and that happened before `before`; returns the count. */
  async removeHandledEvents(cursorNames: readonly string[], before: number, q: Queryable = this.db): Promise<number> {
    if (!cursorNames.length) return (await q.run('DELETE FROM events WHERE occurred_at < ?', [before])).changes;
    const r = await q.get<{ m: unknown }>(`SELECT MIN(last_seq) AS m FROM event_cursors WHERE name IN (${cursorNames.map(() => '?').join(',')})`, [...cursorNames]);
    const upTo = Number(r?.m ?? 0);
    return (await q.run('DELETE FROM events WHERE seq <= ? AND occurred_at < ?', [upTo, before])).changes;
  }
}
