// Go time.Duration parsing and printing: metav1.Duration fields are stored and shown the way Go prints them
// (`125s` is stored as `2m5s`), so the exact algorithm matters for output compatibility.

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
}

const MAX_INT64 = (1n << 63n) - 1n

export class DurationParseError extends Error {}

function quote(s: string): string {
  return JSON.stringify(s)
}

/** Go's time.ParseDuration: returns nanoseconds, or throws with Go's error text (`time: invalid duration "x"`). */
export function parseGoDuration(input: string): bigint {
  const invalid = (): DurationParseError => new DurationParseError(`time: invalid duration ${quote(input)}`)
  let s = input
  let negative = false
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-')
    s = s.slice(1)
  }
  if (s === '0') return 0n
  if (s === '') throw invalid()
  let total = 0n
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw invalid()
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)
    const intPart = m?.[1] ?? ''
    const fracPart = m?.[2]
    if (intPart === '' && (fracPart === undefined || fracPart === '')) throw invalid()
    s = s.slice(m?.[0].length ?? 0)
    const unitMatch = /^[^\d.]*/.exec(s)
    const unit = unitMatch?.[0] ?? ''
    if (unit === '') throw new DurationParseError(`time: missing unit in duration ${quote(input)}`)
    const perUnit = NS_PER_UNIT[unit]
    if (perUnit === undefined) {
      throw new DurationParseError(`time: unknown unit ${quote(unit)} in duration ${quote(input)}`)
    }
    s = s.slice(unit.length)
    let value = BigInt(intPart === '' ? '0' : intPart) * perUnit
    if (fracPart) {
      // Go truncates the fractional part towards zero at nanosecond precision.
      value += (BigInt(fracPart) * perUnit) / 10n ** BigInt(fracPart.length)
    }
    total += value
    if (total > MAX_INT64 + (negative ? 1n : 0n)) throw invalid()
  }
  return negative ? -total : total
}

function fraction(v: bigint, digits: number): string {
  // Prints v / 10^digits with trailing zeros (and a bare point) removed, as Go's fmtFrac does.
  const scale = 10n ** BigInt(digits)
  const whole = v / scale
  const frac = (v % scale).toString().padStart(digits, '0').replace(/0+$/, '')
  return frac === '' ? whole.toString() : `${whole}.${frac}`
}

/** Go's time.Duration.String(). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s'
  const sign = ns < 0n ? '-' : ''
  const u = ns < 0n ? -ns : ns
  if (u < 1_000_000_000n) {
    if (u < 1_000n) return `${sign}${u}ns`
    if (u < 1_000_000n) return `${sign}${fraction(u, 3)}µs`
    return `${sign}${fraction(u, 6)}ms`
  }
  const hours = u / 3_600_000_000_000n
  const minutes = (u / 60_000_000_000n) % 60n
  const secondsNs = u % 60_000_000_000n
  let out = `${fraction(secondsNs, 9)}s`
  if (hours > 0n) out = `${hours}h${minutes}m${out}`
  else if (minutes > 0n) out = `${minutes}m${out}`
  return sign + out
}

/** Parses and re-prints a duration string the way a metav1.Duration round-trip through Go does. */
export function normalizeGoDuration(input: string): string {
  return formatGoDuration(parseGoDuration(input))
}

/** Nanoseconds to seconds as a JS number (for runtime use of configured intervals). */
export function durationSeconds(input: string): number {
  return Number(parseGoDuration(input)) / 1e9
}
