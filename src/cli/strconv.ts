// Go's strconv parsing where calicoctl relies on it: flag and argument values (ParseBool, Atoi) and the integer
// syntax yaml.v3 resolves scalars with (ParseInt with base 0). Pure.

/** strconv.ParseBool; undefined where Go returns a syntax error. */
export function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  return undefined
}

export type AtoiResult = {ok: true; value: number} | {ok: false; reason: 'invalid syntax' | 'value out of range'}

/**
 * strconv.Atoi: an optional sign and decimal digits. Go's int is 64 bits; values JavaScript cannot hold exactly are
 * refused as out of range here (no calicoctl argument comes near 2^53).
 */
export function atoi(s: string): AtoiResult {
  if (!/^[+-]?\d+$/.test(s)) return {ok: false, reason: 'invalid syntax'}
  const value = Number(s)
  return Number.isSafeInteger(value) ? {ok: true, value} : {ok: false, reason: 'value out of range'}
}

/** Go's error text for a failed Atoi. */
export function atoiError(s: string, reason: 'invalid syntax' | 'value out of range'): string {
  return `strconv.Atoi: parsing ${JSON.stringify(s)}: ${reason}`
}

/**
 * The value strconv.ParseInt(s, 0, ...) reads: an optional sign, then `0x`/`0o`/`0b` prefixed digits, a leading 0
 * for octal, or decimal. The range is the caller's to check; underscores are not accepted (strip them first
 * where Go's literal syntax allows them).
 */
export function parseIntBase0(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s)
  if (!m) return undefined
  let digits = m[2]!
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`
  const v = BigInt(digits)
  return m[1] === '-' ? -v : v
}
