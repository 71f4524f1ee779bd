// Log lines as logrus's text formatter writes them (`time="…" level=info msg="…"`), filtered by level: calicoctl's
// -l/--log-level output and the node agent's log are both these; only their timestamps differ.

/** logrus's levels, most severe first; a logger at one level writes it and every level before it. */
export const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Logger {
  readonly level: LogLevel
  error(msg: string): void
  warn(msg: string): void
  info(msg: string): void
  debug(msg: string): void
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v)
}

export interface LogrusOptions {
  /** The text of the `time` field for a message written now. */
  time: (now: Date) => string
  /** Where each line goes (with its newline); stderr by default. */
  write?: (line: string) => void
}

/** A logger writing messages at or above `level` (`warn` is written `warning`, as logrus does). */
export function createLogrusLogger(level: LogLevel, opts: LogrusOptions): Logger {
  const rank = LOG_LEVELS.indexOf(level)
  const write = opts.write ?? ((line: string) => process.stderr.write(line))
  const emit = (at: LogLevel, msg: string): void => {
    if (LOG_LEVELS.indexOf(at) > rank) return
    write(`time="${opts.time(new Date())}" level=${at === 'warn' ? 'warning' : at} msg=${JSON.stringify(msg)}\n`)
  }
  return {
    level,
    error: (msg) => emit('error', msg),
    warn: (msg) => emit('warn', msg),
    info: (msg) => emit('info', msg),
    debug: (msg) => emit('debug', msg),
  }
}
