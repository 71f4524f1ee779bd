// The agent's only access to nftables: atomic `nft -f` transactions and stateless read-back of one table.
// It never names a table it was not given, so other tables in the ruleset are never read or touched.
import {CommandError, run} from './exec.js'

export interface NftTableRef {
  family: 'inet' | 'ip' | 'ip6'
  name: string
}

export class Nft {
  constructor(private readonly binary = 'nft') {}

  /** Runs `script` as one transaction: either all of it takes effect or none (nft's own guarantee). */
  async apply(script: string): Promise<void> {
    if (script === '') return
    await run(this.binary, ['-f', '-'], script)
  }

  /**
   * The table as `nft -s list table` prints it (no counters, so two listings of an unchanged table are equal),
   * or undefined when the table does not exist. Runs at low priority: it is a background check, and listing a large
   * table takes seconds of CPU that policy updates should get first.
   */
  async list(table: NftTableRef): Promise<string | undefined> {
    try {
      return (await run(this.binary, ['-s', 'list', 'table', table.family, table.name], undefined, {nice: 10})).stdout
    } catch (err) {
      if (err instanceof CommandError && /No such file or directory/.test(err.stderr)) return undefined
      throw err
    }
  }

  /**
   * Dry-runs `script` (`nft --check`): the kernel validates the whole transaction and then aborts it, so nothing
   * changes. Rejects with the kernel's complaint when a feature is missing.
   */
  async check(script: string): Promise<void> {
    await run(this.binary, ['--check', '-f', '-'], script)
  }

  /** `nft --version` output: whether the binary exists and works. */
  async version(): Promise<string> {
    return (await run(this.binary, ['--version'])).stdout.trim()
  }
}
