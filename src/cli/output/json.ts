// Go's json.MarshalIndent(v, "", "  ") for already-ordered plain data, whole or (a list's items) in parts.

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

/**
 * marshalIndentJSON of an object whose last member is an array given in parts, written as it comes: the text is
 * taken after each part, and all of it is what marshalIndentJSON of the whole object returns.
 */
export class JSONArrayStream {
  /** The whole document with the array empty, and its text up to the array. */
  private readonly whole: string
  private readonly head: string
  private empty = true

  /** `doc`'s last member is the array, given empty: its items come from items(). */
  constructor(doc: Record<string, unknown>) {
    const members = Object.keys(doc)
    const last = members[members.length - 1]
    if (last === undefined || !Array.isArray(doc[last]) || (doc[last] as unknown[]).length !== 0) {
      throw new Error('internal error: a streamed JSON document must end with an empty array')
    }
    this.whole = marshalIndentJSON(doc)
    // The document ends with the empty array, `[]\n}`.
    this.head = this.whole.slice(0, -EMPTY_CLOSE.length)
  }

  /** Adds items; returns their text (with what precedes it). */
  items(values: readonly unknown[]): string {
    if (values.length === 0) return ''
    // Items of an array that is a top-level member, as JSON.stringify indents them there.
    const wrapped = marshalIndentJSON({items: values})
    const text = wrapped.slice(ITEMS_OPEN.length, -ITEMS_CLOSE.length)
    const before = this.empty ? `${this.head}[\n` : ',\n'
    this.empty = false
    return before + text
  }

  /** The rest of the document. */
  end(): string {
    return this.empty ? this.whole : ITEMS_CLOSE
  }
}

const EMPTY_CLOSE = '[]\n}'
const ITEMS_OPEN = '{\n  "items": [\n'
const ITEMS_CLOSE = '\n  ]\n}'
