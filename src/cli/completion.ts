// Shell completion: the scripts `calicoctl completion bash|zsh` prints, and the candidates the hidden
// `calicoctl __complete <words...>` command answers them with (commands, flags, kinds, resource names).
import {cliKindNames} from '../api/kinds.js'

export type Shell = 'bash' | 'zsh'

export const SHELLS: readonly Shell[] = ['bash', 'zsh']

export function completionScript(shell: Shell, bin: string): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}_complete`
  if (shell === 'bash') {
    return `# ${bin} bash completion. Load with: source <(${bin} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(${bin} __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F ${fn} ${bin}
`
  }
  return `#compdef ${bin}
# ${bin} zsh completion. Load with: source <(${bin} completion zsh)
${fn}() {
  local -a candidates
  candidates=("\${(@f)$(${bin} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- \${candidates}
}
compdef ${fn} ${bin}
`
}

/** What the shell is completing, decided from the words typed so far (the last one is the partial word). */
export type CompletionRequest =
  | {type: 'commands'; prefix: string}
  | {type: 'flags'; command: string; prefix: string}
  | {type: 'values'; values: string[]; prefix: string}
  | {type: 'names'; kind: string; prefix: string}

/** Commands whose first argument is a KIND and second a resource NAME. */
const KIND_COMMANDS = new Set(['get', 'delete', 'label', 'patch'])
const OUTPUT_FORMATS = ['ps', 'wide', 'yaml', 'json', 'custom-columns=', 'go-template=', 'go-template-file=']

/**
 * Classifies the words after the binary name. `commandIds` are oclif ids with spaces (`ipam show`), used to find
 * where the command ends and its arguments begin.
 */
export function classify(words: readonly string[], commandIds: readonly string[]): CompletionRequest {
  const prefix = words.length > 0 ? words[words.length - 1] : ''
  const done = words.slice(0, -1)
  const positional = done.filter((w, i) => !w.startsWith('-') && !(i > 0 && /^-(o|n|c|f|l|p|t)$|^--(output|namespace|config|filename|log-level|patch|type|context)$/.test(done[i - 1])))
  // The longest command id the typed words start with.
  let command = ''
  for (const id of commandIds) {
    const parts = id.split(' ')
    if (parts.length <= positional.length && parts.every((p, i) => positional[i] === p) && id.length > command.length) command = id
  }
  if (!command) return {type: 'commands', prefix: positional.join(' ') ? `${positional.join(' ')} ${prefix}` : prefix}
  const previous = done[done.length - 1]
  if (previous === '-o' || previous === '--output') return {type: 'values', values: OUTPUT_FORMATS, prefix}
  if (prefix.startsWith('-')) return {type: 'flags', command, prefix}
  const args = positional.slice(command.split(' ').length)
  if (KIND_COMMANDS.has(command)) {
    if (args.length === 0) return {type: 'values', values: cliKindNames(), prefix}
    if (args.length >= 1) return {type: 'names', kind: args[0], prefix}
  }
  return {type: 'values', values: [], prefix}
}

/** Candidates for a `commands` request: the next word of every command id that continues the typed ones. */
export function commandCandidates(typed: string, commandIds: readonly string[]): string[] {
  const words = typed.split(' ')
  const partial = words.pop() ?? ''
  const out = new Set<string>()
  for (const id of commandIds) {
    const parts = id.split(' ')
    if (parts.length <= words.length || !words.every((w, i) => parts[i] === w)) continue
    const next = parts[words.length]
    if (next.startsWith(partial)) out.add(next)
  }
  return [...out].sort()
}
