// calicoctl's logging: logrus-style text lines on stderr, silent unless -l/--log-level asks for them.
import {metav1Time} from '../api/gotime.js'

export const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Logger {
  readonly level: LogLevel
  warn(msg: string): void
  info(msg: string): void
  debug(msg: string): void
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v)
}

/** Writes `time="…" level=info msg="…"` lines for messages at or above `level`. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const rank = LOG_LEVELS.indexOf(level)
  const emit = (at: LogLevel, msg: string): void => {
    if (LOG_LEVELS.indexOf(at) > rank) return
    const time = metav1Time(new Date())
    write(`time="${time}" level=${at === 'warn' ? 'warning' : at} msg=${JSON.stringify(msg)}\n`)
  }
  return {
    level,
    warn: (msg) => emit('warn', msg),
    info: (msg) => emit('info', msg),
    debug: (msg) => emit('debug', msg),
  }
}

export const SILENT: Logger = createLogger('panic', () => undefined)
