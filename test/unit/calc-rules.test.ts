// parseRule remembers results by rule text and namespace: equal rules share one result, and what differs in either
// (namespace scoping, a port, the action) gets its own.
import {describe, expect, it} from 'vitest'
import {parseRule} from '../../src/dataplane/calc/rules.js'
import type {Rule} from '../../src/dataplane/calc/types.js'

const rule = (selector: string, port = 80): Rule => ({action: 'Allow', protocol: 'TCP', source: {selector}, destination: {ports: [port, 'http']}})

describe('parseRule', () => {
  it('shares the result of equal rules in one namespace', () => {
    const a = parseRule(rule("app == 'web'"), 'ns1')
    const b = parseRule(rule("app == 'web'"), 'ns1')
    expect(b).toBe(a)
    // The source selector's set, then the destination's named-port set (over all endpoints), each referenced once.
    expect(a.sets.map((s) => s.type)).toEqual(['net', 'ip-port'])
    expect(a.rule.srcIPSets).toEqual([a.sets[0]!.id])
    expect(a.rule.dstNamedPortSets).toEqual([a.sets[1]!.id])
  })

  it('parses again what differs: namespace, ports, action', () => {
    const base = parseRule(rule("app == 'web'"), 'ns1')
    const otherNs = parseRule(rule("app == 'web'"), 'ns2')
    expect(otherNs).not.toBe(base)
    expect(otherNs.sets[0]!.selector).toContain('ns2')
    expect(otherNs.sets[0]!.id).not.toBe(base.sets[0]!.id)
    expect(parseRule(rule("app == 'web'"), undefined).sets[0]!.selector).toBe('app == "web"')
    expect(parseRule(rule("app == 'web'", 81), 'ns1').rule.dstPorts).toEqual([{first: 81, last: 81}])
    expect(parseRule({...rule("app == 'web'"), action: 'Deny'}, 'ns1').rule.action).toBe('deny')
  })

  it('does not remember a rule it cannot parse', () => {
    const bad: Rule = {action: 'Allow', destination: {ports: ['http']}}
    expect(() => parseRule(bad, 'ns1')).toThrow(/needs a rule protocol/)
    expect(() => parseRule(bad, 'ns1')).toThrow(/needs a rule protocol/)
  })
})
