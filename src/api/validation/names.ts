// Name formats used by Calico's validator, and the Kubernetes apimachinery checks (qualified names, label values,
// DNS labels, port names) whose messages Calico passes through unchanged.

export const NAME_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
export const NAME_SUBDOMAIN_FMT = `${NAME_LABEL_FMT}(\\.${NAME_LABEL_FMT})*`

/** Most resource names: a DNS-1123 subdomain. */
export const NAME_RE = new RegExp(`^${NAME_SUBDOMAIN_FMT}$`)
/** Tier names appear inside other names, so they may not contain dots. */
export const TIER_NAME_RE = new RegExp(`^${NAME_LABEL_FMT}$`)
/** A label, optionally `tier.label`, or a `knp.default.` / `ossg.default.` prefixed subdomain. */
export const NETWORK_POLICY_NAME_RE = new RegExp(
  `^((${NAME_LABEL_FMT})(\\.${NAME_LABEL_FMT})?|((?:knp|ossg)\\.default\\.(${NAME_SUBDOMAIN_FMT})))$`,
)
export const GLOBAL_NETWORK_POLICY_NAME_RE = new RegExp(`^(${NAME_LABEL_FMT}\\.)?${NAME_LABEL_FMT}$`)
export const CONTAINER_ID_RE = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/
export const INTERFACE_RE = /^[a-zA-Z0-9_.-]{1,15}$/

export const DNS1123_SUBDOMAIN_MAX = 253
export const DNS1123_LABEL_MAX = 63

const QNAME_CHAR_FMT = '[A-Za-z0-9]'
const QNAME_EXT_CHAR_FMT = '[-A-Za-z0-9_.]'
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR_FMT}${QNAME_EXT_CHAR_FMT}*)?${QNAME_CHAR_FMT}`
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`)
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const QUALIFIED_NAME_MAX = 63

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`)
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

const DNS1123_LABEL_RE = new RegExp(`^${NAME_LABEL_FMT}$`)
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}

function maxLenError(n: number): string {
  return `must be no more than ${n} characters`
}

export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = []
  if (v.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX))
  if (!NAME_RE.test(v)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, NAME_SUBDOMAIN_FMT, 'example.com'))
  return errs
}

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = []
  if (v.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX))
  if (!DNS1123_LABEL_RE.test(v)) errs.push(regexError(DNS1123_LABEL_ERR, NAME_LABEL_FMT, 'my-name', '123-abc'))
  return errs
}

/**
 * Keys found valid before: every endpoint and policy repeats the same few label and annotation keys, and the agent
 * checks every stored object. Bounded; cleared when full.
 */
const validQualifiedNames = new Set<string>()
const VALID_QUALIFIED_NAMES_LIMIT = 10_000

/** No problems: shared, so that checking a valid key or value allocates nothing. */
const NONE: readonly string[] = []

/** Kubernetes IsQualifiedName: `[prefix/]name` as used for label and annotation keys. */
export function isQualifiedName(v: string): readonly string[] {
  if (validQualifiedNames.has(v)) return NONE
  const errs = qualifiedNameErrors(v)
  if (errs.length === 0) {
    if (validQualifiedNames.size >= VALID_QUALIFIED_NAMES_LIMIT) validQualifiedNames.clear()
    validQualifiedNames.add(v)
  }
  return errs
}

function qualifiedNameErrors(v: string): string[] {
  const parts = v.split('/')
  let name: string
  const errs: string[] = []
  if (parts.length === 1) {
    name = parts[0]
  } else if (parts.length === 2) {
    const prefix = parts[0]
    name = parts[1]
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`))
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (name.length > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`)
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`)
  }
  return errs
}

export function isValidLabelValue(v: string): readonly string[] {
  if (v.length <= QUALIFIED_NAME_MAX && LABEL_VALUE_RE.test(v)) return NONE
  const errs: string[] = []
  if (v.length > QUALIFIED_NAME_MAX) errs.push(maxLenError(QUALIFIED_NAME_MAX))
  if (!LABEL_VALUE_RE.test(v)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'))
  return errs
}

/** Kubernetes IsValidPortName (IANA service names). */
export function isValidPortName(v: string): string[] {
  const errs: string[] = []
  if (v.length > 15) errs.push(maxLenError(15))
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)')
  if (v.includes('--')) errs.push('must not contain consecutive hyphens')
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen')
  return errs
}
