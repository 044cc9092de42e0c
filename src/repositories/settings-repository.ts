import type { Queryable } from '../db/db.ts';

/** Small key/value rows the server owns (e.g. the token signing key). */
export class SettingsRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findSetting(key: string): Promise<string | null> {
    const r = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return r?.value ?? null;
  }
  /** Inserts unless present; returns the value that won (another process may have raced us). */
  async saveSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.findSetting(key))!;
  }
  /** Compare-and-set: replaces the value only while it is still `expected` (another process may have replaced it). */
  async replaceSetting(key: string, expected: string, value: string): Promise<void> {
    await this.db.run('UPDATE settings SET value = ? WHERE key = ? AND value = ?', [value, key, expected]);
  }
}
