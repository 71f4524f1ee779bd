import {describe, expect, it} from 'vitest'
import {atoi, atoiError, parseBool, parseIntBase0} from '../../src/cli/strconv.js'

describe("Go's strconv parsing", () => {
  it('ParseBool accepts exactly Go\'s spellings', () => {
    expect(['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseBool)).toEqual(Array(6).fill(true))
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseBool)).toEqual(Array(6).fill(false))
    expect(['yes', 'tRUE', '', ' true'].map(parseBool)).toEqual(Array(4).fill(undefined))
  })

  it('Atoi: sign and decimal digits only; what JavaScript cannot hold is out of range', () => {
    expect(atoi('+42')).toEqual({ok: true, value: 42})
    expect(atoi('-0')).toEqual({ok: true, value: -0})
    expect(atoi('0x10')).toEqual({ok: false, reason: 'invalid syntax'})
    expect(atoi('1_000')).toEqual({ok: false, reason: 'invalid syntax'})
    expect(atoi('9007199254740993')).toEqual({ok: false, reason: 'value out of range'})
    expect(atoiError('x', 'invalid syntax')).toBe('strconv.Atoi: parsing "x": invalid syntax')
  })

  it('ParseInt with base 0 reads prefixes and a leading zero as octal', () => {
    expect(['10', '-10', '+0x1F', '0o17', '017', '0b101', '0'].map(parseIntBase0)).toEqual([10n, -10n, 31n, 15n, 15n, 5n, 0n])
    expect(['08', '0x', '1.5', '', '1e3', '--1'].map(parseIntBase0)).toEqual(Array(6).fill(undefined))
    expect(parseIntBase0('18446744073709551616')).toBe(2n ** 64n)
  })
})
