import {describe, expect, it} from 'vitest'
import {createAgentLogger} from '../../src/agent/log.js'
import {createLogger} from '../../src/cli/logger.js'
import {createLogrusLogger, isLogLevel} from '../../src/lib/logrus.js'

describe('logrus-style logger', () => {
  it('writes the levels at or above its own, warn as "warning", the message quoted', () => {
    const lines: string[] = []
    const log = createLogrusLogger('warn', {time: () => 'T', write: (l) => lines.push(l)})
    log.debug('d')
    log.info('i')
    log.warn('w "x"')
    log.error('e')
    expect(lines).toEqual(['time="T" level=warning msg="w \\"x\\""\n', 'time="T" level=error msg="e"\n'])
    expect(log.level).toBe('warn')
  })

  it('stamps calicoctl lines to the second and agent lines to the millisecond', () => {
    const cli: string[] = []
    const agent: string[] = []
    createLogger('info', (l) => cli.push(l)).info('x')
    createAgentLogger('info', (l) => agent.push(l)).info('x')
    expect(cli[0]).toMatch(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=info msg="x"\n$/)
    expect(agent[0]).toMatch(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z" level=info msg="x"\n$/)
  })

  it('knows logrus level names only', () => {
    expect(isLogLevel('debug')).toBe(true)
    expect(isLogLevel('warning')).toBe(false)
  })
})
