// calicoctl's logging: logrus-style text lines on stderr with second-precision timestamps, silent unless
// -l/--log-level asks for them.
import {metav1Time} from '../api/gotime.js'
import {createLogrusLogger, type Logger, type LogLevel} from '../lib/logrus.js'

export {isLogLevel, LOG_LEVELS, type Logger, type LogLevel} from '../lib/logrus.js'

/** Writes `time="…" level=info msg="…"` lines for messages at or above `level`. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return createLogrusLogger(level, {time: metav1Time, write})
}

export const SILENT: Logger = createLogger('panic', () => undefined)
