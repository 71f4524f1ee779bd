// Calico's label-selector language. Placeholder signatures: the implementation lands with the selector work.
export type Labels = Readonly<Record<string, string>>

export interface Selector {
  /** Whether a set of labels matches. */
  matches(labels: Labels): boolean
  /** Calico's canonical string form. */
  toString(): string
}

export class SelectorParseError extends Error {
  constructor(message: string, readonly column: number) {
    super(message)
  }
}

export function parseSelector(expr: string): Selector {
  throw new SelectorParseError(`selector support is not built yet: ${expr}`, 0)
}
