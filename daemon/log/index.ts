// Structured logs: one JSON object per line in the state dir's caret.log, and a readable line on
// stderr when the daemon runs in the foreground. Fields whose names look like credentials are
// redacted, so an API key passed by mistake never reaches the file.
import { appendFileSync, renameSync, statSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(token|secret|password|passwd|authorization|api[-_]?key|^env$)/i;
const ROTATE_BYTES = 10 * 1024 * 1024;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a connection id, say). */
  child(fields: LogFields): Logger;
  setLevel(level: LogLevel): void;
}

export interface LoggerOptions {
  file?: string;
  stderr?: boolean;
  level?: LogLevel;
}

export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = { message: value.message, stack: value.stack };
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = redact(value as LogFields);
    else out[key] = value;
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const state = { level: options.level ?? 'info', written: 0, stderrBroken: false };
  if (options.stderr) {
    // A foreground daemon whose terminal went away must not die of EPIPE, nor loop logging it.
    process.stderr.on('error', () => {
      state.stderrBroken = true;
    });
  }
  const write = (level: LogLevel, msg: string, fields: LogFields) => {
    if (levelRank[level] < levelRank[state.level]) return;
    const time = new Date().toISOString();
    const clean = redact(fields);
    if (options.file) {
      try {
        if (state.written === 0 || state.written > 1024 * 1024) rotateIfLarge(options.file);
        const line = JSON.stringify({ time, level, msg, ...clean }) + '\n';
        appendFileSync(options.file, line, { mode: 0o600 });
        state.written = state.written > 1024 * 1024 ? 1 : state.written + line.length;
      } catch {
        // A log that cannot be written must never take the daemon down.
      }
    }
    if (options.stderr && !state.stderrBroken) {
      const extra = Object.keys(clean).length ? ' ' + JSON.stringify(clean) : '';
      process.stderr.write(`${time.slice(11, 23)} ${level.padEnd(5)} ${msg}${extra}\n`);
    }
  };
  const make = (base: LogFields): Logger => ({
    debug: (msg, fields) => write('debug', msg, { ...base, ...fields }),
    info: (msg, fields) => write('info', msg, { ...base, ...fields }),
    warn: (msg, fields) => write('warn', msg, { ...base, ...fields }),
    error: (msg, fields) => write('error', msg, { ...base, ...fields }),
    child: (fields) => make({ ...base, ...fields }),
    setLevel: (level) => {
      state.level = level;
    },
  });
  return make({});
}

function rotateIfLarge(file: string): void {
  try {
    if (statSync(file).size > ROTATE_BYTES) renameSync(file, file + '.1');
  } catch {
    // No file yet.
  }
}

/** A logger that drops everything (tests, in-process helpers). */
export const silentLogger: Logger = createLogger({ level: 'error' });
