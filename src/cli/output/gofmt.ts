// Go's fmt/strconv rendering of plain values, so that table cells and go-template output print
// numbers, nil pointers and collections exactly as calicoctl (a Go program) does.

/** Marks a number that Go holds as float64, so `%v` prints it with strconv's 'g' format (`1e+06`). */
export class GoFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return formatFloatG(this.value)
  }
}

/** Shortest decimal digits and decimal-point position of a finite non-zero |n| (like strconv's `decimal`). */
function shortestDigits(n: number): {digits: string; dp: number} {
  // toExponential() without an argument yields the shortest round-tripping mantissa.
  const [mant, exp] = Math.abs(n).toExponential().split('e')
  const digits = mant.replace('.', '')
  return {digits, dp: Number(exp) + 1}
}

/** strconv.FormatFloat(n, 'g', -1, 64): what `%v` prints for a float64. */
export function formatFloatG(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  const sign = n < 0 || Object.is(n, -0) ? '-' : ''
  if (n === 0) return `${sign}0`
  const {digits, dp} = shortestDigits(n)
  const exp = dp - 1
  // For the shortest form Go switches to %e when the exponent is < -4 or >= 6 (eprec = 6).
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const e = Math.abs(exp)
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`
  }
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`
  if (dp >= digits.length) return `${sign}${digits}${'0'.repeat(dp - digits.length)}`
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`
}

/** A JS number as Go prints it when its Go type is unknown: integers plainly, others as float64. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) {
    // Safe integers print the same either way, without a BigInt; beyond, String() would round the digits.
    return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString()
  }
  return formatFloatG(n)
}

/**
 * fmt.Sprint of a value decoded from JSON: strings verbatim, nil as `<nil>`, slices as `[a b]`,
 * maps as `map[k:v]` with sorted keys (Go's fmt sorts map keys). Structs cannot be told apart
 * from maps in decoded data, so they print in map form too.
 */
export function goSprint(v: unknown): string {
  if (v === undefined || v === null) return '<nil>'
  if (typeof v === 'string') return v
  if (typeof v === 'number') return formatNumber(v)
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v instanceof GoFloat) return v.toString()
  if (Array.isArray(v)) return `[${v.map(goSprint).join(' ')}]`
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o).sort()
    return `map[${keys.map((k) => `${k}:${goSprint(o[k])}`).join(' ')}]`
  }
  return String(v)
}
