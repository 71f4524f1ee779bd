// The agent's log: logrus-style lines (as calico-node writes) on stderr, filtered by level.

export const AGENT_LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug'] as const
export type AgentLogLevel = (typeof AGENT_LOG_LEVELS)[number]

export interface AgentLogger {
  error(msg: string): void
  warn(msg: string): void
  info(msg: string): void
  debug(msg: string): void
}

export function isAgentLogLevel(v: string): v is AgentLogLevel {
  return (AGENT_LOG_LEVELS as readonly string[]).includes(v)
}

export function createAgentLogger(level: AgentLogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): AgentLogger {
  const rank = AGENT_LOG_LEVELS.indexOf(level)
  const emit = (at: AgentLogLevel, msg: string): void => {
    if (AGENT_LOG_LEVELS.indexOf(at) > rank) return
    write(`time="${new Date().toISOString()}" level=${at === 'warn' ? 'warning' : at} msg=${JSON.stringify(msg)}\n`)
  }
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  }
}
