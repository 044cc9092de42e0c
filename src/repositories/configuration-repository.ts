import type { Queryable } from '../db/db.ts';

/** Runtime configuration values set through the API (JSON-encoded), overriding the config file's defaults. */
export class ConfigurationRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  /** Every stored key with its JSON text. */
  async listConfigurations(): Promise<Map<string, string>> {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM configurations');
    return new Map(rows.map((r) => [r.key, r.value]));
  }
  /** Upserts the given keys (JSON text values) in one statement each, inside the caller's transaction. */
  async saveConfigurations(values: ReadonlyMap<string, string>, q: Queryable = this.db): Promise<void> {
    const now = Date.now();
    for (const [key, value] of values)
      await q.run(
        'INSERT INTO configurations (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [key, value, now],
      );
  }
}
