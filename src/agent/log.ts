// The agent's log: logrus-style lines (as calico-node writes) on stderr, filtered by level, with millisecond
// timestamps.
import {createLogrusLogger, type Logger, type LogLevel} from '../lib/logrus.js'

export type AgentLogger = Logger

export function createAgentLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): AgentLogger {
  return createLogrusLogger(level, {time: (d) => d.toISOString(), write})
}
