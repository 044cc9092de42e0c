// Filters and sorting for list endpoints, rendered to SQL only through each repository's column allow-list:
// a field that is not in the map never reaches SQL, and every value is a bound parameter.
import type { Param } from '../db/db.ts';
import { escapeLike } from './member-repository.ts';

export type Condition =
  | { op: 'eq'; value: string | number }
  | { op: 'like'; value: string }
  | { op: 'in'; values: (string | number)[] }
  | { op: 'range'; min: string | number | null; max: string | number | null };

export interface ListQuery<F extends string> {
  where: Partial<Record<F, Condition>>;
  sort: { field: F; desc: boolean }[];
  limit: number;
  offset: number;
}

/** ` AND ...` clauses for the conditions, against `columns` (field → SQL column expression). */
export function whereSql<F extends string>(columns: Readonly<Record<F, string>>, where: Partial<Record<F, Condition>>): [string, Param[]] {
  let sql = '';
  const params: Param[] = [];
  for (const [field, cond] of Object.entries(where) as [F, Condition | undefined][]) {
    const col = columns[field];
    if (!cond || col === undefined) throw new Error(`field not allowed: ${field}`);
    if (cond.op === 'eq') {
      sql += ` AND ${col} = ?`;
      params.push(cond.value);
    } else if (cond.op === 'like') {
      sql += ` AND LOWER(${col}) LIKE ? ESCAPE '\\'`;
      params.push(`%${escapeLike(cond.value.toLowerCase())}%`);
    } else if (cond.op === 'in') {
      if (cond.values.length === 0) sql += ' AND 1 = 0';
      else {
        sql += ` AND ${col} IN (${cond.values.map(() => '?').join(',')})`;
        params.push(...cond.values);
      }
    } else {
      if (cond.min !== null) {
        sql += ` AND ${col} >= ?`;
        params.push(cond.min);
      }
      if (cond.max !== null) {
        sql += ` AND ${col} <= ?`;
        params.push(cond.max);
      }
    }
  }
  return [sql, params];
}

export function orderSql<F extends string>(columns: Readonly<Record<F, string>>, sort: ListQuery<F>['sort'], fallback: string): string {
  const parts = sort.map((s) => {
    const col = columns[s.field];
    if (col === undefined) throw new Error(`field not allowed: ${s.field}`);
    return `${col} ${s.desc ? 'DESC' : 'ASC'}`;
  });
  parts.push(fallback);
  return ` ORDER BY ${parts.join(', ')}`;
}
