// Every case of Calico's selector test vectors (test/fixtures/selector/selector-cases.yaml, extracted from
// libcalico-go's parser and tokenizer tests) plus the behaviour this implementation adds: error columns,
// the parse cache, label prefixing and EntityRule scoping.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {
  clearSelectorCache,
  entityRuleSelector,
  isValidSelectorLabel,
  namespaceSelectorForEndpoints,
  normaliseSelector,
  parsedEntityRuleSelector,
  parseSelector,
  possibleToSatisfy,
  SelectorCache,
  SelectorParseError,
  selectorFromTree,
  validateSelector,
  type Labels,
} from '../../src/api/selector.js'
import {tokenize, TokenizeError, type Token, type TokenKind} from '../../src/api/selector/tokenizer.js'

interface MatchCase {
  id: string
  selector: string
  labels: Record<string, string>
  expected: boolean
}
interface FailureCase {
  id: string
  selector: string
  comment?: string
}
interface CanonicalCase {
  input: string
  canonical: string
  uniqueId?: string
}
interface TokenizerCase {
  input: string
  tokens?: string[]
  error?: boolean
}
interface Fixture {
  match_cases: MatchCase[]
  parse_failures: FailureCase[]
  canonicalisation: CanonicalCase[]
  tokenizer: TokenizerCase[]
  derived_cases: MatchCase[]
}

const here = dirname(fileURLToPath(import.meta.url))
const fixture = yaml.load(readFileSync(join(here, '../fixtures/selector/selector-cases.yaml'), 'utf8')) as Fixture

/** "__REPEAT__a__N" stands for N copies of 'a'. */
function expand(s: string): string {
  return s.replace(/__REPEAT__(.)__(\d+)/g, (_, ch: string, n: string) => ch.repeat(Number(n)))
}

const CALICO_TOKEN_NAMES: Record<TokenKind, string> = {
  label: 'TokLabel',
  string: 'TokStringLiteral',
  lbrace: 'TokLBrace',
  rbrace: 'TokRBrace',
  comma: 'TokComma',
  eq: 'TokEq',
  ne: 'TokNe',
  in: 'TokIn',
  not: 'TokNot',
  notIn: 'TokNotIn',
  contains: 'TokContains',
  startsWith: 'TokStartsWith',
  endsWith: 'TokEndsWith',
  all: 'TokAll',
  has: 'TokHas',
  lparen: 'TokLParen',
  rparen: 'TokRParen',
  and: 'TokAnd',
  or: 'TokOr',
  global: 'TokGlobal',
  eof: 'TokEOF',
}

function calicoTokenText(t: Token): string {
  const name = CALICO_TOKEN_NAMES[t.kind]
  return t.kind === 'label' || t.kind === 'string' || t.kind === 'has' ? `${name}(${t.value})` : name
}

function parseError(expr: string): SelectorParseError {
  try {
    parseSelector(expr)
  } catch (err) {
    if (err instanceof SelectorParseError) return err
    throw err
  }
  throw new Error(`expected ${JSON.stringify(expr)} to fail to parse`)
}

describe('selector fixture', () => {
  it('has every section populated', () => {
    expect(fixture.match_cases.length).toBeGreaterThan(60)
    expect(fixture.parse_failures.length).toBeGreaterThan(20)
    expect(fixture.canonicalisation.length).toBeGreaterThan(10)
    expect(fixture.tokenizer.length).toBeGreaterThan(40)
    expect(fixture.derived_cases.length).toBeGreaterThan(0)
  })
})

describe.each([
  ['match_cases', fixture.match_cases],
  ['derived_cases', fixture.derived_cases],
])('%s', (_section, cases) => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const sel = parseSelector(expand(c.selector))
    const labels: Labels = c.labels ?? {}
    expect(sel.matches(labels)).toBe(c.expected)
    expect(sel.matchesLookup((k) => (Object.hasOwn(labels, k) ? labels[k] : undefined))).toBe(c.expected)
    // The canonical form must mean the same thing.
    expect(parseSelector(sel.toString()).matches(labels)).toBe(c.expected)
  })
})

describe('parse_failures', () => {
  it.each(fixture.parse_failures.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const expr = expand(c.selector)
    const err = parseError(expr)
    expect(err.column).toBeGreaterThanOrEqual(1)
    expect(err.column).toBeLessThanOrEqual(expr.length + 1)
    expect(err.message).toBe(`${err.reason} at column ${err.column}`)
    expect(validateSelector(expr)).toBe(err.message)
  })
})

describe('canonicalisation', () => {
  it.each(fixture.canonicalisation.map((c) => [c.input, c] as const))('%j', (_input, c) => {
    const sel = parseSelector(c.input)
    expect(sel.toString()).toBe(c.canonical)
    expect(parseSelector(c.canonical).toString()).toBe(c.canonical)
    if (c.uniqueId) expect(sel.uniqueId()).toBe(c.uniqueId)
    expect(parseSelector(c.canonical).uniqueId()).toBe(sel.uniqueId())
  })
})

describe('tokenizer', () => {
  it.each(fixture.tokenizer.map((c, i) => [i, c.input, c] as const))('#%i %j', (_i, _input, c) => {
    const input = expand(c.input)
    if (c.error) {
      expect(() => tokenize(input)).toThrow(TokenizeError)
      expect(validateSelector(input)).toBeDefined()
      return
    }
    expect(c.tokens).toBeDefined()
    expect(tokenize(input).map(calicoTokenText)).toEqual(c.tokens?.map(expand))
  })
})

describe('grammar details', () => {
  it.each([
    ['a == "1" || b == "2" && c == "3"', '(a == "1" || (b == "2" && c == "3"))'],
    ['(a == "1" || b == "2") && c == "3"', '((a == "1" || b == "2") && c == "3")'],
    ['a == "1" && b == "2" && c == "3"', '(a == "1" && b == "2" && c == "3")'],
    ['(a == "1" && b == "2") && c == "3"', '((a == "1" && b == "2") && c == "3")'],
    ['!!a == "1"', 'a == "1"'],
    ['!!!a == "1"', '!a == "1"'],
    ['a in {"x",}', 'a in {"x"}'],
    ['a not in {}', 'a not in {}'],
    ['a in {}', 'a in {}'],
    ['a notin{"b"}', 'a not in {"b"}'],
    ['a starts  with "x"', 'a starts with "x"'],
    ['\thas(\ta\t)\t', 'has(a)'],
    ["a == 'it\"s'", `a == 'it"s'`],
    ['a in {"\'", \'"\'}', `a in {'"', "'"}`],
    ['contains contains "contains"', 'contains contains "contains"'],
    ['in in {"in"}', 'in in {"in"}'],
    ['has(has)', 'has(has)'],
    ['global()', 'global()'],
    ['global() && all()', '(global() && all())'],
    ['a == ""', 'a == ""'],
    ['a == "b\\"', 'a == "b\\"'],
    ['a.b/c-d_e == "x"', 'a.b/c-d_e == "x"'],
    ['all == "x" && global != "y" && has == "z"', '(all == "x" && global != "y" && has == "z")'],
    ['not in {"x"}', 'not in {"x"}'],
    ['a in {"x"} || b not in {"y"}', '(a in {"x"} || b not in {"y"})'],
  ])('%j canonicalises to %j', (input, canonical) => {
    expect(parseSelector(input).toString()).toBe(canonical)
  })

  it.each([
    ['a == "b"\n', 'newlines are not whitespace'],
    ['a\r== "b"', 'carriage return is not whitespace'],
    ['a starts with b', 'multi-word operator needs a string after it'],
    ['a contains b', 'value must be a string literal'],
    ['a == b', 'value must be a string literal'],
    ['a in {b}', 'set members must be strings'],
    ['a in {"x" "y"}', 'set members must be comma separated'],
    ['a in {,}', 'empty member'],
    ['a in {"x"', 'unterminated set'],
    ['has (a)', 'has must be followed directly by ('],
    ['(a == "b"', 'unterminated paren'],
    ['a == "b")', 'unbalanced paren'],
    ['a == "b" &&', 'dangling &&'],
    ['|| a == "b"', 'leading ||'],
    ['a == "b" b == "c"', 'missing operator between expressions'],
    ['é == "x"', 'non-ASCII label'],
    ['all() == "x"', 'all() is not a label'],
    ['a == "x" ! b == "y"', 'dangling negation'],
  ])('%j is rejected (%s)', (input) => {
    expect(validateSelector(input)).toMatch(/ at column \d+$/)
    expect(() => parseSelector(input)).toThrow(SelectorParseError)
  })

  // Further rejections from libcalico-go's parser tests that the fixture does not carry.
  it.each(['b == b', 'b ends with b', "'b1' == b", 'a b', 'foo in {"", ||', '(', '(a == "foo"', '%', 'a == "b" || %', 'has(foo) &&'])(
    'rejects %j like Calico',
    (input) => {
      expect(validateSelector(input)).toBeDefined()
    },
  )

  it('accepts labels of exactly 512 characters and rejects 513', () => {
    expect(validateSelector(`${'x'.repeat(512)} == "v"`)).toBeUndefined()
    expect(validateSelector(`has(${'x'.repeat(513)})`)).toMatch(/^label too long/)
  })

  it('orders in-sets by UTF-8 bytes, as Go does', () => {
    // U+FF5E (3 UTF-8 bytes) sorts before U+1F600 (4 bytes), although its UTF-16 unit is larger.
    expect(parseSelector('a in {"\u{1F600}", "\uFF5E", "b"}').toString()).toBe('a in {"b", "\uFF5E", "\u{1F600}"}')
  })
})

describe('error columns (1-based)', () => {
  it.each([
    ['a ', 3, 'unexpected end of selector after label "a", expected an operator'],
    [')', 1, "unexpected token ')'"],
    ['foo == "bar" &', 14, 'expected &&'],
    ['label = "value"', 7, 'expected =='],
    ['label == "value', 10, 'unterminated string'],
    ['label inf "value"', 7, 'expected operator after label "label"'],
    ['has(foo', 8, "no closing ')' after has("],
    ['all(', 5, "no closing ')' after all("],
    ['foo in ""', 8, `expected set literal {...} after 'in' but found string ""`],
    ['a == "b" && %', 13, 'expected identifier'],
    ['a == "b" c', 10, 'unexpected label "c" after the end of the expression'],
    ['(a == "b"', 10, 'expected ) but found end of selector'],
    ['b contains b', 12, `expected a quoted string after 'contains' but found label "b"`],
    ['a in {"x" "y"}', 11, 'expected } but found string "y"'],
    ['', 0, ''],
  ])('%j', (expr, column, reason) => {
    if (expr === '') {
      expect(validateSelector(expr)).toBeUndefined()
      return
    }
    const err = parseError(expr)
    expect(err.column).toBe(column)
    expect(err.reason).toBe(reason)
    expect(err.message).toBe(`${reason} at column ${column}`)
    expect(err.selector).toBe(expr)
  })
})

describe('evaluation', () => {
  it('ignores inherited object members when reading labels', () => {
    expect(parseSelector('has(constructor)').matches({})).toBe(false)
    expect(parseSelector('has(toString)').matches({})).toBe(false)
    expect(parseSelector('constructor != "x"').matches({})).toBe(true)
    expect(parseSelector('has(constructor)').matches({constructor: 'c'})).toBe(true)
  })

  it.each([
    ['a contains ""', {a: ''}, true],
    ['a contains ""', {}, false],
    ['a starts with ""', {a: 'x'}, true],
    ['a ends with "x"', {a: 'x'}, true],
    ['a in {}', {a: ''}, false],
    ['a not in {}', {a: ''}, true],
    ['a == ""', {a: ''}, true],
    ['a != ""', {}, true],
    ['global()', {}, true],
    ['!global()', {}, false],
    ['a == "1" || b == "2" || c == "3"', {c: '3'}, true],
    ['a == "1" && b == "2" && c == "3"', {a: '1', b: '2'}, false],
  ] as const)('%j over %j is %s', (expr, labels, expected) => {
    expect(parseSelector(expr).matches(labels)).toBe(expected)
  })

  it('reads layered labels through matchesLookup', () => {
    const own: Labels = {app: 'web'}
    const inherited: Labels = {'pcns.team': 'blue'}
    const lookup = (k: string): string | undefined => (Object.hasOwn(own, k) ? own[k] : Object.hasOwn(inherited, k) ? inherited[k] : undefined)
    expect(parseSelector('app == "web" && pcns.team == "blue"').matchesLookup(lookup)).toBe(true)
    expect(parseSelector('app == "web" && pcns.team == "red"').matchesLookup(lookup)).toBe(false)
  })
})

describe('selector properties', () => {
  it('reports the labels read and global() usage', () => {
    const sel = parseSelector('a == "1" && (has(b) || c not in {"x"}) && !global()')
    expect([...sel.labelNames].sort()).toEqual(['a', 'b', 'c'])
    expect(sel.usesGlobal).toBe(true)
    expect(sel.isGlobal).toBe(false)
    expect(parseSelector(' global( ) ').isGlobal).toBe(true)
    expect(parseSelector('').isAll).toBe(true)
    expect(parseSelector('all()').usesGlobal).toBe(false)
  })

  it('compares by canonical form', () => {
    expect(parseSelector("a=='b'").equals(parseSelector('a == "b"'))).toBe(true)
    expect(parseSelector('a == "b"').equals(parseSelector('a == "c"'))).toBe(false)
  })

  it('prefixes every label name like Calico PrefixVisitor', () => {
    const sel = parseSelector('a == "1" && !has(b) || c in {"x"} || d not in {"y"} || e contains "z" || all() || f != "w"')
    expect(sel.withLabelPrefix('pcns.').toString()).toBe(
      '((pcns.a == "1" && !has(pcns.b)) || pcns.c in {"x"} || pcns.d not in {"y"} || pcns.e contains "z" || all() || pcns.f != "w")',
    )
    expect(sel.toString()).toContain('(a == "1"')
  })

  it.each([
    ["k == 'v'", 'visited/k == "v"'],
    ["k != 'v'", 'visited/k != "v"'],
    ["k contains 'v'", 'visited/k contains "v"'],
    ["k starts with 'v'", 'visited/k starts with "v"'],
    ["k ends with 'v'", 'visited/k ends with "v"'],
    ["k == 'v' && x == 'y'", '(visited/k == "v" && visited/x == "y")'],
    ["k == 'v' || has(x)", '(visited/k == "v" || has(visited/x))'],
    ["!(k == 'v')", '!visited/k == "v"'],
    ["k in {'v'}", 'visited/k in {"v"}'],
    ["k not in {'v'}", 'visited/k not in {"v"}'],
    ["!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))", '!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})'],
  ])('prefix visitor case %j', (input, expected) => {
    expect(parseSelector(input).withLabelPrefix('visited/').toString()).toBe(expected)
  })

  it('normalises like selector.Normalise', () => {
    expect(normaliseSelector('  ')).toBe('all()')
    expect(normaliseSelector(" a=='b' \n")).toBe('a == "b"')
    expect(normaliseSelector(' a = ')).toBe('a =')
  })

  it('validates label names', () => {
    expect(isValidSelectorLabel('projectcalico.org/namespace')).toBe(true)
    expect(isValidSelectorLabel('')).toBe(false)
    expect(isValidSelectorLabel('a b')).toBe(false)
    expect(isValidSelectorLabel('x'.repeat(513))).toBe(false)
  })
})

describe('label restrictions (libcalico-go LabelRestrictions)', () => {
  type R = {mustBePresent?: boolean; mustBeAbsent?: boolean; mustHaveOneOf?: string[]}
  const present = (oneOf?: string[]): R => ({mustBePresent: true, ...(oneOf ? {mustHaveOneOf: oneOf} : {})})
  const cases: Array<[string, Record<string, R>]> = [
    ['', {}],
    ['all()', {}],
    ['global()', {}],
    ["a == 'value'", {a: present(['value'])}],
    ['has(a)', {a: present()}],
    ["a in {'v1','v2'}", {a: present(['v1', 'v2'])}],
    ["a not in {'v1','v2'}", {}],
    ["a contains 'foo'", {a: present()}],
    ["a ends with 'foo'", {a: present()}],
    ["a starts with 'foo'", {a: present()}],
    ["a != 'value'", {}],
    ["a == 'v1' && a == 'v1'", {a: present(['v1'])}],
    ["a == 'v1' && a == 'v2'", {a: present([])}],
    ["a == 'v1' && has(a)", {a: present(['v1'])}],
    ["a in {'v1','v2'} && a in {'v2','v3'} ", {a: present(['v2'])}],
    ["a in {'v1','v2', 'v3'} && a in {'v2','v3'} ", {a: present(['v2', 'v3'])}],
    ["has(a) && a == 'v1'", {a: present(['v1'])}],
    ['has(a) && !has(a)', {a: {mustBePresent: true, mustBeAbsent: true}}],
    ["a == 'v1' && b == 'v2'", {a: present(['v1']), b: present(['v2'])}],
    ["a == 'v1' && all()", {a: present(['v1'])}],
    ["all() && a == 'v1'", {a: present(['v1'])}],
    ["a == 'v1' || a == 'v2'", {a: present(['v1', 'v2'])}],
    ["has(a) || a == 'v2'", {a: present()}],
    ["a=='v2' || has(a)", {a: present()}],
    ["a=='v2' || has(b)", {}],
    ["a=='v2' || (has(b) && has(a))", {a: present()}],
    ["a == 'v1' || b == 'v2'", {}],
    ["a == 'v1' || all()", {}],
    ["all() || b == 'v2'", {}],
    ["!(a == 'value')", {}],
    ['!has(a)', {a: {mustBeAbsent: true}}],
    ['!!has(a)', {a: present()}],
  ]
  const normalise = (m: ReadonlyMap<string, {mustBePresent: boolean; mustBeAbsent: boolean; mustHaveOneOf?: readonly string[]}>) =>
    Object.fromEntries(
      [...m].map(([k, r]) => [k, {mustBePresent: r.mustBePresent, mustBeAbsent: r.mustBeAbsent, ...(r.mustHaveOneOf ? {mustHaveOneOf: [...r.mustHaveOneOf]} : {})}]),
    )
  const expand = (want: Record<string, R>) =>
    Object.fromEntries(Object.entries(want).map(([k, r]) => [k, {mustBePresent: r.mustBePresent ?? false, mustBeAbsent: r.mustBeAbsent ?? false, ...(r.mustHaveOneOf ? {mustHaveOneOf: r.mustHaveOneOf} : {})}]))

  it.each(cases)('%j', (expr, want) => {
    expect(normalise(parseSelector(expr).labelRestrictions())).toEqual(expand(want))
    // An extra all() conjunct changes nothing.
    if (expr) expect(normalise(parseSelector(`all() && (${expr})`).labelRestrictions())).toEqual(expand(want))
  })

  it('flags unsatisfiable restrictions', () => {
    const r = parseSelector("a == 'v1' && a == 'v2' && has(b) && !has(b)").labelRestrictions()
    expect(possibleToSatisfy(r.get('a') ?? {mustBePresent: false, mustBeAbsent: false})).toBe(false)
    expect(possibleToSatisfy(r.get('b') ?? {mustBePresent: false, mustBeAbsent: false})).toBe(false)
    expect(possibleToSatisfy({mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: ['x']})).toBe(true)
  })
})

describe('SelectorCache', () => {
  it('returns the same instance for the same text', () => {
    const cache = new SelectorCache(4)
    expect(cache.parse('a == "b"')).toBe(cache.parse('a == "b"'))
    expect(cache.size).toBe(1)
  })

  it('caches failures and rethrows them with the same details', () => {
    const cache = new SelectorCache(4)
    const first = (() => {
      try {
        cache.parse('a ==')
      } catch (e) {
        return e as SelectorParseError
      }
    })()
    expect(first).toBeInstanceOf(SelectorParseError)
    expect(() => cache.parse('a ==')).toThrow(first?.message)
    expect(cache.validate('a ==')).toBe(first?.message)
    expect(cache.size).toBe(1)
  })

  it('evicts the least recently used entry when full', () => {
    const cache = new SelectorCache(2)
    const a = cache.parse('has(a)')
    cache.parse('has(b)')
    expect(cache.parse('has(a)')).toBe(a) // a is now the most recent
    cache.parse('has(c)') // evicts b
    expect(cache.size).toBe(2)
    expect(cache.parse('has(a)')).toBe(a)
    const b2 = cache.parse('has(b)') // re-parsed, evicting c
    expect(b2.toString()).toBe('has(b)')
    expect(cache.size).toBe(2)
  })

  it('parseCanonical lets the canonical text find the same selector, which means what a fresh parse of it means', () => {
    for (const c of fixture.match_cases) {
      const expr = expand(c.selector)
      const cache = new SelectorCache(4)
      const sel = cache.parseCanonical(expr)
      expect(sel).toBe(cache.parse(expr))
      expect(cache.parse(sel.toString())).toBe(sel)
      const fresh = new SelectorCache(1).parse(sel.toString())
      expect(fresh.toString()).toBe(sel.toString())
      expect(fresh.uniqueId()).toBe(sel.uniqueId())
      expect(fresh.matches(c.labels ?? {})).toBe(c.expected)
    }
    // adopt(): the instance already cached under the canonical text wins, else the one given is cached.
    const adopting = new SelectorCache(4)
    const built = selectorFromTree(new SelectorCache(1).parse('has(z)').root)
    expect(adopting.adopt(built)).toBe(built)
    expect(adopting.parse('has(z)')).toBe(built)
    expect(adopting.adopt(selectorFromTree(built.root))).toBe(built)
    // A canonical text already cached keeps its own entry; failures throw as parse() does.
    const cache = new SelectorCache(4)
    const first = cache.parse('(a == "1" && b == "2")')
    expect(cache.parseCanonical('a == "1" && b == "2"')).not.toBe(first)
    expect(cache.parse('(a == "1" && b == "2")')).toBe(first)
    expect(() => cache.parseCanonical('a ==')).toThrow(SelectorParseError)
  })

  it('rejects a non-positive capacity', () => {
    expect(() => new SelectorCache(0)).toThrow(RangeError)
  })

  it('the shared cache can be cleared', () => {
    const before = parseSelector('has(cleared)')
    clearSelectorCache()
    const after = parseSelector('has(cleared)')
    expect(after).not.toBe(before)
    expect(after.toString()).toBe(before.toString())
  })
})

describe('EntityRule scoping (rules.go getEndpointSelector)', () => {
  it('parsedEntityRuleSelector is the parse of the scoped text (same tree, canonical text and set ID), errors included', () => {
    const selectors = [...fixture.match_cases.map((c) => expand(c.selector)), '', '  ', 'all()', 'a ==', '!!has(a)', 'a == "x" || b == "y"']
    const rules = selectors.flatMap((selector) => [
      {selector},
      {selector, notSelector: "app == 'x'"},
      {selector, namespaceSelector: "team == 'blue'"},
      {selector, serviceAccounts: {names: ['sa1']}},
    ])
    for (const rule of rules) {
      for (const ns of [undefined, 'ns1', "o'brien"]) {
        let text: string
        try {
          text = entityRuleSelector(rule, ns)
        } catch (err) {
          expect(() => parsedEntityRuleSelector(rule, ns)).toThrow((err as Error).message)
          continue
        }
        let expected: ReturnType<typeof parseSelector> | undefined
        try {
          expected = text === '' ? undefined : new SelectorCache(1).parse(text)
        } catch (err) {
          expect(() => parsedEntityRuleSelector(rule, ns)).toThrow((err as Error).message)
          continue
        }
        const got = parsedEntityRuleSelector(rule, ns)
        expect(got?.root).toEqual(expected?.root)
        expect(got?.toString()).toBe(expected?.toString())
        expect(got?.uniqueId()).toBe(expected?.uniqueId())
      }
    }
  })

  it('rewrites namespace selectors onto pcns. labels with all()/global() given meaning', () => {
    expect(namespaceSelectorForEndpoints("team == 'blue'")).toBe('pcns.team == "blue"')
    expect(namespaceSelectorForEndpoints('all()')).toBe('has(projectcalico.org/namespace)')
    expect(namespaceSelectorForEndpoints('global()')).toBe('!has(projectcalico.org/namespace)')
    expect(namespaceSelectorForEndpoints("has(a) || all()")).toBe('(has(pcns.a) || has(projectcalico.org/namespace))')
  })

  it.each([
    [{}, 'ns1', ''],
    [{}, undefined, ''],
    [{selector: "app == 'x'"}, 'ns1', "(projectcalico.org/namespace == 'ns1') && (app == 'x')"],
    [{selector: "app == 'x'"}, undefined, "app == 'x'"],
    [{notSelector: "app == 'x'"}, 'ns1', "projectcalico.org/namespace == 'ns1'"],
    [{notSelector: "app == 'x'"}, undefined, ''],
    [{namespaceSelector: 'all()'}, 'ns1', 'has(projectcalico.org/namespace)'],
    [{namespaceSelector: "team == 'a'", selector: 'has(app)'}, undefined, '(pcns.team == "a") && (has(app))'],
    [{namespaceSelector: 'global()', selector: 'has(role)'}, 'ns1', '(!has(projectcalico.org/namespace)) && (has(role))'],
    [{serviceAccounts: {names: ['b', 'a']}}, undefined, 'projectcalico.org/serviceaccount in {"a", "b"}'],
    [
      {serviceAccounts: {selector: "role == 'db'", names: ['a']}, selector: 'has(app)'},
      'ns1',
      `(projectcalico.org/namespace == 'ns1') && (((pcsa.role == "db") && (projectcalico.org/serviceaccount in {"a"})) && (has(app)))`,
    ],
  ] as const)('%j in namespace %s', (rule, ns, expected) => {
    const got = entityRuleSelector(rule, ns)
    expect(got).toBe(expected)
    if (got) expect(validateSelector(got)).toBeUndefined()
  })
})
