// Go's json.MarshalIndent(v, "", "  ") for already-ordered plain data.

/**
 * Serialises like encoding/json with two-space indentation: same layout as JSON.stringify, plus
 * Go's HTML-safe escaping of <, > and & and of U+2028/U+2029 (so selectors such as
 * `a && b` print as `a \u0026\u0026 b`). No trailing newline, as calicoctl prints none.
 */
export function marshalIndentJSON(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'null'
  // These characters can only occur inside JSON strings, so a global replacement is safe.
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
