// Go's text forms of a time.Time that Calico's stored objects carry. Pure.

/** metav1.Time as JSON (and Calico's RFC 3339 timestamps): second precision, UTC, `2006-01-02T15:04:05Z`. */
export function metav1Time(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * time.Time.String() of a UTC time, as Calico writes IPAM allocation timestamps: `2006-01-02 15:04:05.123 +0000 UTC`,
 * the fraction without trailing zeros and left out when zero (JavaScript dates hold milliseconds only).
 */
export function goTimeString(d: Date): string {
  const iso = d.toISOString()
  const frac = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac === '' ? '' : `.${frac}`} +0000 UTC`
}
