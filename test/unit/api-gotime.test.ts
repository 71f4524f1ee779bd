import {describe, expect, it} from 'vitest'
import {goTimeString, metav1Time} from '../../src/api/gotime.js'

describe('Go time text', () => {
  it('metav1.Time drops the fraction', () => {
    expect(metav1Time(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05Z')
    expect(metav1Time(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05Z')
  })

  it('time.Time.String trims trailing zeros of the fraction and omits a zero one', () => {
    expect(goTimeString(new Date('2026-11-27T14:42:02.120Z'))).toBe('2026-11-27 14:42:02.12 +0000 UTC')
    expect(goTimeString(new Date('2026-11-27T14:42:02.000Z'))).toBe('2026-11-27 14:42:02 +0000 UTC')
  })
})
