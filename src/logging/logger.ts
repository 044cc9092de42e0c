// Where Fastify's pino logger writes: stdout or a size-rotated file, as pino's JSON lines (level 10–60, time in
// epoch ms, msg, pid, hostname, req_id) or one readable line per record (log.format=text).
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';
import { RotatingFile } from './rotating-file.ts';

interface Sink {
  write(chunk: string): unknown;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A JSON record as one line of text: `<ISO time> <LEVEL> [req_id] msg key=value …`. */
export function textLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const { level, time, msg, pid: _pid, hostname: _host, req_id, ...rest } = rec;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const when = typeof time === 'number' ? new Date(time).toISOString() : '';
  return `${when} ${LEVELS[level as number] ?? String(level)}${req_id ? ` [${String(req_id)}]` : ''} ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`;
}

/** The stream for Fastify's `logger.stream`; a log file that cannot be opened is one config error naming the key. */
export function logStream(log: Config['log']): Sink {
  let out: Sink = process.stdout;
  if (log.file !== '') {
    try {
      out = new RotatingFile(log.file, log.rotateSize, log.rotateCount);
    } catch (e) {
      throw new ConfigError([`log.file: cannot open ${JSON.stringify(log.file)}: ${(e as Error).message}`]);
    }
  }
  if (log.format === 'json') return out;
  return { write: (chunk: string) => out.write(textLine(chunk)) };
}

/** An incoming X-Request-Id is kept only if it is a sane token; otherwise a fresh one. */
export function requestId(given: string | string[] | undefined): string {
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}
