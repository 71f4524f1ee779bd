// The plugin's log: logrus-style lines on stderr (runtimes keep stdout for the result), filtered by log_level.
import type {LogLevel} from './config.js'

const RANK: Record<LogLevel, number> = {debug: 0, info: 1, warning: 2, error: 3, fatal: 4, panic: 5}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warning(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (at: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[at] < RANK[level]) return
    const extra = Object.entries(fields)
      .map(([k, v]) => ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v)}`)
      .join('')
    write(`${new Date().toISOString()} [${at.toUpperCase()}] ${msg}${extra}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warning: (m, f) => emit('warning', m, f),
    error: (m, f) => emit('error', m, f),
  }
}

/** A logger that drops everything (tests of pure paths). */
export const silentLogger: Logger = createLogger('panic', () => undefined)
