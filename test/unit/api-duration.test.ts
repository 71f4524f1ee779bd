import {describe, expect, it} from 'vitest'

import {durationSeconds, formatGoDuration, normalizeGoDuration, parseGoDuration} from '../../src/api/duration.js'

describe('Go duration normalisation (metav1.Duration round trip)', () => {
  it.each([
    ['125s', '2m5s'],
    ['9910s', '2h45m10s'],
    ['90s', '1m30s'],
    ['1m30s', '1m30s'],
    ['10s', '10s'],
    ['0', '0s'],
    ['0s', '0s'],
    ['500ms', '500ms'],
    ['1500ms', '1.5s'],
    ['1.5h', '1h30m0s'],
    ['15m', '15m0s'],
    ['24h', '24h0m0s'],
    ['1h0m0.5s', '1h0m0.5s'],
    ['1us', '1µs'],
    ['1µs', '1µs'],
    ['2500ns', '2.5µs'],
    ['999ns', '999ns'],
    ['1.000000001s', '1.000000001s'],
    ['-90s', '-1m30s'],
    ['+5m', '5m0s'],
    ['.5s', '500ms'],
    ['1.s', '1s'],
    ['1h1h', '2h0m0s'],
  ])('%s -> %s', (input, want) => {
    expect(normalizeGoDuration(input)).toBe(want)
  })

  it.each([
    ['', 'time: invalid duration ""'],
    ['abc', 'time: invalid duration "abc"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h2', 'time: missing unit in duration "1h2"'],
    ['5d', 'time: unknown unit "d" in duration "5d"'],
    ['.s', 'time: invalid duration ".s"'],
    ['-', 'time: invalid duration "-"'],
    ['1s ', 'time: unknown unit "s " in duration "1s "'],
    ['9999999999h', 'time: invalid duration "9999999999h"'],
  ])('rejects %j with Go text', (input, message) => {
    expect(() => parseGoDuration(input)).toThrow(message)
  })

  it('formats nanosecond counts like Duration.String', () => {
    expect(formatGoDuration(0n)).toBe('0s')
    expect(formatGoDuration(1_000_000n)).toBe('1ms')
    expect(formatGoDuration(3_600_000_000_000n)).toBe('1h0m0s')
  })

  it('converts to seconds', () => {
    expect(durationSeconds('1m30s')).toBe(90)
    expect(durationSeconds('250ms')).toBe(0.25)
  })
})
