// Go's fmt verbs that `calicoctl ipam show` uses for its counts: `%.5g` of float64(count) and `%.f` of a
// percentage. Go rounds exact halves to even where JavaScript's toPrecision/toFixed round them up, so the
// digits are rounded here on the exact decimal value.

/** Rounds a digit string (no sign, no leading zeros) to `n` significant digits, ties to even. */
function roundDigits(digits: string, n: number): {digits: string; carry: boolean} {
  if (digits.length <= n) return {digits, carry: false}
  const kept = digits.slice(0, n)
  const rest = digits.slice(n)
  const half = `5${'0'.repeat(rest.length - 1)}`
  const up = rest > half || (rest === half && Number(kept[n - 1]) % 2 === 1)
  if (!up) return {digits: kept, carry: false}
  const bumped = (BigInt(kept) + 1n).toString()
  return bumped.length > n ? {digits: bumped.slice(0, n), carry: true} : {digits: bumped, carry: false}
}

/**
 * Go's `fmt.Sprintf("%.<prec>g", float64(count))` for a non-negative integer count (`65536`, `1e+05`,
 * `9.2234e+18`). The count goes through float64 first, as Go's conversion does.
 */
export function formatCountG(count: number | bigint, prec = 5): string {
  const asFloat = typeof count === 'bigint' ? Number(count) : count
  if (!Number.isFinite(asFloat) || asFloat < 0 || !Number.isInteger(asFloat)) {
    throw new RangeError(`not a non-negative integer count: ${String(count)}`)
  }
  if (asFloat === 0) return '0'
  const exact = BigInt(asFloat).toString()
  const rounded = roundDigits(exact, prec)
  // Go's decimal drops trailing zeros; dp is the position of the decimal point.
  const digits = rounded.digits.replace(/0+$/, '')
  const dp = exact.length + (rounded.carry ? 1 : 0)
  const nd = digits.length
  let eprec = prec
  if (eprec > nd && nd >= dp) eprec = nd
  const exp = dp - 1
  if (exp < -4 || exp >= eprec) {
    const mantissa = nd > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${mantissa}e+${exp < 10 ? '0' : ''}${exp}`
  }
  return digits.padEnd(dp, '0')
}

/** Go's `fmt.Sprintf("%.f", x)`: no decimals, exact halves to even. */
export function formatFixed0(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf'
  const floor = Math.floor(x)
  // x - floor(x) is exact for the magnitudes a percentage has.
  const frac = x - floor
  const r = frac > 0.5 || (frac === 0.5 && floor % 2 !== 0) ? floor + 1 : floor
  return Object.is(r, -0) || (r === 0 && x < 0) ? '-0' : String(r)
}

/** calicoctl's usage cell: `"%.5g (%.f%%)"`, the share of `capacity`. */
export function formatShare(n: number | bigint, capacity: number | bigint): string {
  return `${formatCountG(n)} (${formatFixed0((100 * Number(n)) / Number(capacity))}%)`
}
