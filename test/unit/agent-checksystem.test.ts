import {describe, expect, it} from 'vitest'
import {featureProbes, formatCheckResults, kernelVersion, versionAtLeast} from '../../src/agent/checksystem.js'

describe('node checksystem', () => {
  it('parses kernel releases and compares versions', () => {
    expect(kernelVersion('6.1.0-18-amd64')).toEqual([6, 1])
    expect(kernelVersion('5.13.0')).toEqual([5, 13])
    expect(kernelVersion('garbage')).toBeUndefined()
    expect(versionAtLeast([5, 13], [5, 13])).toBe(true)
    expect(versionAtLeast([5, 12], [5, 13])).toBe(false)
    expect(versionAtLeast([6, 0], [5, 13])).toBe(true)
  })

  it('probes only a scratch table', () => {
    for (const p of featureProbes('calico-check-1')) {
      for (const line of p.script.trim().split('\n')) expect(line, p.name).toMatch(/^add (table|chain|set|map|element|rule) inet calico-check-1\b/)
    }
  })

  it('prints calicoctl\'s layout; optional failures only warn', () => {
    const ok = formatCheckResults([
      {group: 'kernel version', name: '6.1.0', status: 'OK'},
      {group: 'nftables features', name: 'log (nft_log)', status: 'FAIL', optional: true, detail: 'Error: Could not process rule\nmore'},
    ])
    expect(ok.ok).toBe(true)
    expect(ok.text).toBe(
      'Checking kernel version...\n\t\t6.1.0               \t\t\t\t\tOK\nChecking nftables features...\n' +
        '\t\tlog (nft_log)       \t\t\t\t\tFAIL\nWARNING: Unable to detect optional module/feature log (nft_log); continuing: Error: Could not process rule\n' +
        'System meets minimum system requirements to run Calico!\n',
    )
    const bad = formatCheckResults([{group: 'nftables features', name: 'fib (nft_fib_inet)', status: 'FAIL', detail: 'No such file or directory'}])
    expect(bad.ok).toBe(false)
    expect(bad.text).toContain('WARNING: Unable to detect fib (nft_fib_inet): No such file or directory')
    expect(bad.text).not.toContain('System meets')
  })
})
