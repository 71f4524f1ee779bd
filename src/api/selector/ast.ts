// Selector syntax tree: Calico's canonical rendering (parser/ast.go collectFragments), evaluation compiled
// to closures, and the label-prefix rewrite Calico applies to namespace/service-account selectors.

export type LabelOp = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'

export type SelectorNode =
  | {readonly kind: 'all'}
  | {readonly kind: 'global'}
  | {readonly kind: 'has'; readonly label: string}
  | {readonly kind: LabelOp; readonly label: string; readonly value: string}
  /** `values` sorted (UTF-8 byte order, as Go sorts) and de-duplicated. */
  | {readonly kind: 'in' | 'notIn'; readonly label: string; readonly values: readonly string[]}
  | {readonly kind: 'not'; readonly operand: SelectorNode}
  | {readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[]}

/** Reads one label; undefined when absent. */
export type LabelReader<L> = (labels: L, name: string) => string | undefined

export type Predicate<L> = (labels: L) => boolean

/** Go compares strings bytewise (UTF-8), which is code point order; JS `<` compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Only surrogates (U+D800..U+DFFF) order differently from code points, against U+E000..U+FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      const cx = a.codePointAt(i) ?? x
      const cy = b.codePointAt(i) ?? y
      return cx < cy ? -1 : cx > cy ? 1 : 0
    }
    return x - y
  }
  return a.length - b.length
}

/** Sorted, de-duplicated copy: the set form Calico keeps for `in` / `not in`. */
export function toSortedSet(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareCodePoints)
  return sorted.filter((v, i) => i === 0 || v !== sorted[i - 1])
}

function quote(s: string): string {
  // No escapes exist in the language: a value containing " is written with single quotes.
  return s.includes('"') ? `'${s}'` : `"${s}"`
}

const OP_TEXT: Record<LabelOp, string> = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
}

/** Calico's canonical String() form. */
export function render(node: SelectorNode): string {
  const out: string[] = []
  renderInto(node, out)
  return out.join('')
}

function renderInto(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()')
      return
    case 'global':
      out.push('global()')
      return
    case 'has':
      out.push('has(', node.label, ')')
      return
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.label, OP_TEXT[node.kind], quote(node.value))
      return
    case 'in':
    case 'notIn':
      out.push(node.label, node.kind === 'in' ? ' in {' : ' not in {', node.values.map(quote).join(', '), '}')
      return
    case 'not':
      out.push('!')
      renderInto(node.operand, out)
      return
    case 'and':
    case 'or': {
      // Calico parenthesises every n-ary node, including the outermost one.
      const sep = node.kind === 'and' ? ' && ' : ' || '
      out.push('(')
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(sep)
        renderInto(op, out)
      })
      out.push(')')
      return
    }
  }
}

const TRUE: Predicate<unknown> = () => true

/** Compiles the tree into closures once, so evaluation never walks the tree or re-parses. */
export function compile<L>(node: SelectorNode, read: LabelReader<L>): Predicate<L> {
  switch (node.kind) {
    case 'all':
    case 'global':
      return TRUE
    case 'has': {
      const {label} = node
      return (l) => read(l, label) !== undefined
    }
    case 'eq': {
      const {label, value} = node
      return (l) => read(l, label) === value
    }
    case 'ne': {
      const {label, value} = node
      return (l) => read(l, label) !== value
    }
    case 'contains': {
      const {label, value} = node
      return (l) => read(l, label)?.includes(value) ?? false
    }
    case 'startsWith': {
      const {label, value} = node
      return (l) => read(l, label)?.startsWith(value) ?? false
    }
    case 'endsWith': {
      const {label, value} = node
      return (l) => read(l, label)?.endsWith(value) ?? false
    }
    case 'in': {
      const {label} = node
      const set = new Set(node.values)
      return (l) => {
        const v = read(l, label)
        return v !== undefined && set.has(v)
      }
    }
    case 'notIn': {
      const {label} = node
      const set = new Set(node.values)
      return (l) => {
        const v = read(l, label)
        return v === undefined || !set.has(v)
      }
    }
    case 'not': {
      const inner = compile(node.operand, read)
      return (l) => !inner(l)
    }
    case 'and': {
      const ops = node.operands.map((op) => compile(op, read))
      if (ops.length === 2) {
        const [a, b] = ops
        return (l) => a(l) && b(l)
      }
      return (l) => {
        for (const op of ops) if (!op(l)) return false
        return true
      }
    }
    case 'or': {
      const ops = node.operands.map((op) => compile(op, read))
      if (ops.length === 2) {
        const [a, b] = ops
        return (l) => a(l) || b(l)
      }
      return (l) => {
        for (const op of ops) if (op(l)) return true
        return false
      }
    }
  }
}

/** Calico's PrefixVisitor: every label name in the tree gets `prefix` in front (all()/global() untouched). */
export function prefixLabels(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node
    case 'not':
      return freezeNode({kind: 'not', operand: prefixLabels(node.operand, prefix)})
    case 'and':
    case 'or':
      return freezeNode({kind: node.kind, operands: node.operands.map((op) => prefixLabels(op, prefix))})
    default:
      return freezeNode({...node, label: prefix + node.label})
  }
}

/** Replaces every all() / global() leaf; used to give them a meaning in namespace selectors. */
export function replaceFunctions(node: SelectorNode, all: SelectorNode, global: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all':
      return all
    case 'global':
      return global
    case 'not':
      return freezeNode({kind: 'not', operand: replaceFunctions(node.operand, all, global)})
    case 'and':
    case 'or':
      return freezeNode({kind: node.kind, operands: node.operands.map((op) => replaceFunctions(op, all, global))})
    default:
      return node
  }
}

/** Every label name the selector reads. */
export function collectLabels(node: SelectorNode, into: Set<string>): Set<string> {
  switch (node.kind) {
    case 'all':
    case 'global':
      break
    case 'not':
      collectLabels(node.operand, into)
      break
    case 'and':
    case 'or':
      for (const op of node.operands) collectLabels(op, into)
      break
    default:
      into.add(node.label)
  }
  return into
}

export function containsGlobal(node: SelectorNode): boolean {
  switch (node.kind) {
    case 'global':
      return true
    case 'not':
      return containsGlobal(node.operand)
    case 'and':
    case 'or':
      return node.operands.some(containsGlobal)
    default:
      return false
  }
}

export function freezeNode<N extends SelectorNode>(node: N): N {
  if ('operands' in node) Object.freeze(node.operands)
  if ('values' in node) Object.freeze(node.values)
  return Object.freeze(node)
}
