import {describe, expect, it} from 'vitest'

import {formatCountG, formatFixed0, formatShare} from '../../src/cli/ipam/numbers.js'
import {formatBorrowed, formatConfiguration, formatIPDetails, formatUtilization} from '../../src/cli/ipam/show.js'
import {renderTable} from '../../src/cli/ipam/table.js'
import {ORPHANED_BLOCKS} from '../../src/ipam/index.js'
import type {PoolUtilization} from '../../src/ipam/index.js'

describe('Go %.5g of counts', () => {
  it.each<[number | bigint, string]>([
    [0, '0'],
    [5, '5'],
    [64, '64'],
    [65531, '65531'],
    [65536, '65536'],
    [99999, '99999'],
    [100000, '1e+05'],
    [1048576, '1.0486e+06'],
    // Exact halves round to even, unlike toPrecision.
    [123465, '1.2346e+05'],
    [123475, '1.2348e+05'],
    [999995, '1e+06'],
    [(1n << 63n) - 1n, '9.2234e+18'],
    [1n << 80n, '1.2089e+24'],
  ])('%s → %s', (n, want) => {
    expect(formatCountG(n)).toBe(want)
  })
  it('refuses what is not a count', () => {
    expect(() => formatCountG(1.5)).toThrow(RangeError)
    expect(() => formatCountG(-1)).toThrow(RangeError)
  })
})

describe('Go %.f', () => {
  it.each<[number, string]>([
    [0, '0'],
    [0.0076, '0'],
    [7.8125, '8'],
    [99.99, '100'],
    [12.5, '12'],
    [13.5, '14'],
    [0.5, '0'],
    [Number.NaN, 'NaN'],
  ])('%s → %s', (x, want) => {
    expect(formatFixed0(x)).toBe(want)
  })
  it('formats usage cells as calicoctl', () => {
    expect(formatShare(5, 65536)).toBe('5 (0%)')
    expect(formatShare(65531, 65536)).toBe('65531 (100%)')
    expect(formatShare(59, 64)).toBe('59 (92%)')
    expect(formatShare(1, 8)).toBe('1 (12%)')
  })
})

describe('renderTable (go-pretty default style)', () => {
  it('draws borders, a header rule and aligned cells', () => {
    const text = renderTable({header: ['NAME', 'COUNT'], rows: [['a', '5'], ['longer', '12345']], align: ['left', 'right']})
    expect(text).toBe(
      [
        '+--------+-------+',
        '| NAME   | COUNT |',
        '+--------+-------+',
        '| a      |     5 |',
        '| longer | 12345 |',
        '+--------+-------+',
        '',
      ].join('\n'),
    )
  })
  it('keeps the header rule when there are no rows', () => {
    expect(renderTable({header: ['IP', 'BLOCK'], rows: []})).toBe(
      ['+----+-------+', '| IP | BLOCK |', '+----+-------+', '+----+-------+', ''].join('\n'),
    )
  })
})

function use(name: string, cidr: string, capacity: bigint, inUse: bigint, blocks: PoolUtilization['blocks'] = []): PoolUtilization {
  return {name, cidr, capacity, inUse, reserved: 0n, available: capacity - inUse, blocks}
}

describe('formatUtilization', () => {
  const pools: PoolUtilization[] = [
    use('ipam-test-v4', '10.65.0.0/16', 65536n, 5n, [{cidr: '10.65.0.0/26', capacity: 64, inUse: 5, reserved: 0, available: 59}]),
    use(ORPHANED_BLOCKS, '0.0.0.0/0', 0n, 0n, [{cidr: '10.99.0.0/26', capacity: 64, inUse: 1, reserved: 0, available: 63}]),
  ]
  it('prints pool rows only, without the orphaned-blocks entry', () => {
    expect(formatUtilization(pools, false)).toBe(
      [
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '| GROUPING | CIDR         | IPS TOTAL | IPS IN USE | IPS RESERVED | IPS FREE     |',
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '| IP Pool  | 10.65.0.0/16 |     65536 |     5 (0%) |       0 (0%) | 65531 (100%) |',
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '',
      ].join('\n'),
    )
  })
  it('lists blocks after their pool, and orphaned blocks without a pool row', () => {
    const lines = formatUtilization(pools, true).split('\n')
    expect(lines[3]).toContain('| IP Pool  | 10.65.0.0/16 |')
    expect(lines[4]).toBe('| Block    | 10.65.0.0/26 |        64 |     5 (8%) |       0 (0%) |     59 (92%) |')
    expect(lines[5]).toBe('| Block    | 10.99.0.0/26 |        64 |     1 (2%) |       0 (0%) |     63 (98%) |')
    expect(lines[6]).toMatch(/^\+-/)
  })
})

describe('formatIPDetails', () => {
  it('reports an unassigned address', () => {
    expect(formatIPDetails('10.65.0.2', undefined)).toBe('10.65.0.2 is not assigned\n')
  })
  it('prints handle and sorted owner attributes', () => {
    expect(
      formatIPDetails('10.65.0.2', {handleID: 'h1', attrs: {note: 'reserved by ipam_test.go', a: 'b'}, alternateOwnerAttrs: {pod: 'p2'}}),
    ).toBe(
      'IP 10.65.0.2 is in use\nHandle ID: h1\nActive Owner Attributes:\n  a: b\n  note: reserved by ipam_test.go\nAlternate Owner Attributes:\n  pod: p2\n',
    )
  })
  it('says when there are no attributes or handle', () => {
    expect(formatIPDetails('fd00::1', {attrs: {}})).toBe('IP fd00::1 is in use\nHandle ID: <none>\nNo Active Owner attributes defined\n')
  })
})

describe('formatBorrowed', () => {
  it('lists borrowed addresses and notes unclassified allocations', () => {
    const text = formatBorrowed(
      [{ip: '10.0.0.5', borrowingNode: 'n2', block: '10.0.0.0/26', blockOwner: 'n1', allocationType: 'pod', allocatedTo: 'ns/p'}],
      3,
    )
    expect(text.split('\n')).toEqual([
      '+----------+----------------+-------------+-------------+------+--------------+',
      '| IP       | BORROWING-NODE | BLOCK       | BLOCK OWNER | TYPE | ALLOCATED-TO |',
      '+----------+----------------+-------------+-------------+------+--------------+',
      '| 10.0.0.5 | n2             | 10.0.0.0/26 | n1          | pod  | ns/p         |',
      '+----------+----------------+-------------+-------------+------+--------------+',
      '',
      'Note: found 3 IP allocations without an explicit node association. Unable to determine if they are borrowed.',
      '',
    ])
  })
  it('has no note when every allocation names its node', () => {
    expect(formatBorrowed([], 0)).not.toContain('Note:')
  })
})

describe('formatConfiguration', () => {
  it('prints the Go fields in order with %#v values', () => {
    const text = formatConfiguration({
      strictAffinity: true,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 4,
      kubeVirtVMAddressPersistence: 'Enabled',
      ipCooldownSeconds: 0,
    })
    expect(text.split('\n').slice(3, 8)).toEqual([
      '| StrictAffinity               | true      |',
      '| AutoAllocateBlocks           | true      |',
      '| MaxBlocksPerHost             | 4         |',
      '| KubeVirtVMAddressPersistence | "Enabled" |',
      '| IPCooldownSeconds            | 0         |',
    ])
  })
  it('prints an unset persistence as a nil pointer', () => {
    expect(formatConfiguration({strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})).toContain(
      '(*ipam.VMAddressPersistence)(nil)',
    )
  })
})
