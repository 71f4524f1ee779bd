// calicoctl accepts its global flags before the command (`calicoctl --allow-version-mismatch get nodes`), as
// cobra does; oclif expects the command first. This moves leading global flags behind the command and rejects
// unknown leading flags with cobra's wording. Kept dependency-free: it runs before oclif loads.

const VALUE_FLAGS = new Set(['--log-level', '-l', '--context'])
const BOOL_FLAGS = new Set(['--allow-version-mismatch'])
const HELP_FLAGS = new Set(['-h', '--help'])

export type PreparedArgv = {args: string[]; error?: undefined} | {args?: undefined; error: string}

function unknownFlag(token: string): string {
  if (token.startsWith('--')) return `unknown flag: ${token.split('=')[0]}`
  return `unknown shorthand flag: '${token.charAt(1)}' in ${token}`
}

export function prepareArgv(argv: readonly string[]): PreparedArgv {
  const globals: string[] = []
  let i = 0
  for (; i < argv.length; i++) {
    const token = argv[i]
    if (!token.startsWith('-') || token === '-' || token === '--') break
    const name = token.startsWith('--') ? token.split('=')[0] : token.slice(0, 2)
    if (HELP_FLAGS.has(token)) {
      // oclif only knows --help; cobra prints the root help for -h as well.
      globals.push('--help')
    } else if (BOOL_FLAGS.has(name)) {
      globals.push(token)
    } else if (VALUE_FLAGS.has(name)) {
      const inline = token.startsWith('--') ? token.includes('=') : token.length > 2
      if (inline) {
        globals.push(token)
      } else if (i + 1 < argv.length) {
        globals.push(token, argv[++i])
      } else {
        return {error: `flag needs an argument: ${token.startsWith('--') ? token : `'${token.charAt(1)}' in ${token}`}`}
      }
    } else {
      return {error: unknownFlag(token)}
    }
  }
  const rest = argv.slice(i)
  if (rest.length === 0) return {args: globals.includes('--help') ? ['--help'] : globals}
  const end = rest.indexOf('--') < 0 ? rest.length : rest.indexOf('--')
  // cobra gives every command -h; oclif knows only --help.
  const command = rest.slice(0, end).map((t) => (t === '-h' ? '--help' : t))
  return {args: [...command, ...globals, ...rest.slice(end)]}
}

/** The one line calicoctl prints for an error raised outside any command (e.g. an unknown command). */
export function describeTopLevelError(err: unknown, bin: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const notFound = /^command (.+) not found/.exec(message)
  if (notFound) return `unknown command "${notFound[1]}" for "${bin}"`
  return message.split('\n')[0]
}
