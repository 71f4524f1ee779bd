import {describe, expect, it} from 'vitest'

import {describeTopLevelError, prepareArgv} from '../../src/cli/argv.js'
import {classify, commandCandidates, completionScript} from '../../src/cli/completion.js'

describe('prepareArgv', () => {
  it.each([
    [['get', 'nodes'], ['get', 'nodes']],
    [['--allow-version-mismatch', 'get', 'nodes'], ['get', 'nodes', '--allow-version-mismatch']],
    [['--context', 'main', 'get', 'node'], ['get', 'node', '--context', 'main']],
    [['-l', 'debug', '--log-level=info', 'ipam', 'show'], ['ipam', 'show', '-l', 'debug', '--log-level=info']],
    [['-ldebug', 'get', 'x'], ['get', 'x', '-ldebug']],
    [['-h'], ['--help']],
    [['get', '-h'], ['get', '--help']],
    [['--allow-version-mismatch', 'label', 'a', 'b', '--', '-h'], ['label', 'a', 'b', '--allow-version-mismatch', '--', '-h']],
  ])('%j', (argv, args) => {
    expect(prepareArgv(argv)).toEqual({args})
  })

  it.each([
    [['-m'], "unknown shorthand flag: 'm' in -m"],
    [['--allow-version-mismatch', '-m'], "unknown shorthand flag: 'm' in -m"],
    [['--unknown-flag'], 'unknown flag: --unknown-flag'],
    [['--unknown-flag=3', 'get'], 'unknown flag: --unknown-flag'],
    [['--context'], 'flag needs an argument: --context'],
  ])('rejects %j', (argv, error) => {
    expect(prepareArgv(argv)).toEqual({error})
  })

  it('words top-level errors as cobra does', () => {
    expect(describeTopLevelError(new Error('command foo not found'), 'calicoctl')).toBe('unknown command "foo" for "calicoctl"')
  })
})

describe('completion', () => {
  const ids = ['get', 'delete', 'ipam show', 'ipam split', 'version']

  it('completes command words', () => {
    expect(classify(['ge'], ids)).toEqual({type: 'commands', prefix: 'ge'})
    expect(commandCandidates('ge', ids)).toEqual(['get'])
    expect(commandCandidates('ipam s', ids)).toEqual(['show', 'split'])
    expect(commandCandidates('', ids)).toEqual(['delete', 'get', 'ipam', 'version'])
  })

  it('completes kinds, then names, flags and output formats', () => {
    const kinds = classify(['get', ''], ids)
    expect(kinds.type).toBe('values')
    expect(kinds.type === 'values' && kinds.values).toContain('ippool')
    expect(classify(['get', 'ippool', 'po'], ids)).toEqual({type: 'names', kind: 'ippool', prefix: 'po'})
    expect(classify(['get', '-n', 'ns1', 'networkpolicy', ''], ids)).toEqual({type: 'names', kind: 'networkpolicy', prefix: ''})
    expect(classify(['get', '--ou'], ids)).toEqual({type: 'flags', command: 'get', prefix: '--ou'})
    expect(classify(['get', 'ippool', '-o', ''], ids)).toMatchObject({type: 'values', prefix: ''})
  })

  it('prints scripts that call back into the binary', () => {
    expect(completionScript('bash', 'calicoctl')).toContain('complete -o default -F _calicoctl_complete calicoctl')
    expect(completionScript('zsh', 'calicoctl')).toContain('compdef _calicoctl_complete calicoctl')
  })
})

describe('logger', () => {
  it('writes logrus-style lines at or above the level only', async () => {
    const {createLogger} = await import('../../src/cli/logger.js')
    const lines: string[] = []
    const log = createLogger('info', (l) => lines.push(l))
    log.debug('hidden')
    log.info('shown "quoted"')
    log.warn('careful')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^time="[^"]+" level=info msg="shown \\"quoted\\""\n$/)
    expect(lines[1]).toContain('level=warning msg="careful"')
  })
})
