// The agent's only access to nftables: atomic `nft -f` transactions and stateless read-back of one table.
// It never names a table it was not given, so other tables in the ruleset are never read or touched.
import {CommandError, PipeUnavailableError, run, startStreamed, type ExecResult, type RunOptions, type StreamedRun} from './exec.js'

export interface NftTableRef {
  family: 'inet' | 'ip' | 'ip6'
  name: string
}

/** An `nft -f` waiting for its script (Nft.prepareStream): applied once, or cancelled, which commits nothing. */
export interface PreparedTransaction {
  /** As Nft.applyStream(chunks). */
  apply(chunks: Iterable<string> | AsyncIterable<string>): Promise<void>
  cancel(): Promise<void>
}

export class Nft {
  /** `command` runs nft: the binary, possibly behind a prefix such as `ip netns exec <ns>` (tests). */
  constructor(private readonly command: readonly [string, ...string[]] = ['nft']) {}

  private run(args: readonly string[], input?: string, opts?: RunOptions): Promise<ExecResult> {
    const [bin, ...prefix] = this.command
    return run(bin, [...prefix, ...args], input, opts)
  }

  /** Runs `script` as one transaction: either all of it takes effect or none (nft's own guarantee). */
  async apply(script: string): Promise<void> {
    if (script === '') return
    await this.run(['-f', '-'], script)
  }

  /**
   * Runs a script given in chunks as one transaction, like apply(), but nft parses each chunk while the next is
   * still being produced: for the large start-up script, whose rendering then overlaps nft's own parsing. nft commits
   * only after reading everything, so if producing a chunk throws, nothing is committed (nft is killed first).
   */
  async applyStream(chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
    await this.prepareStream().apply(chunks)
  }

  /**
   * Starts the `nft` of an applyStream before its script exists, so that making its pipe, starting the process and
   * nft's own start-up happen while the caller is still working out what to send.
   */
  prepareStream(): PreparedTransaction {
    // Not `-f -`: nft reads a stdin script whole before parsing it; a named pipe it parses as it reads.
    const [bin, ...prefix] = this.command
    const started = startStreamed(bin, (path) => [...prefix, '-f', path])
    // Reported by apply() (or ignored by cancel()), whenever that comes.
    started.catch(() => undefined)
    const outcome = (): Promise<StreamedRun | PipeUnavailableError> =>
      started.catch((err: unknown) => {
        if (err instanceof PipeUnavailableError) return err
        throw err
      })
    return {
      apply: async (chunks) => {
        const run = await outcome()
        // No pipe here (e.g. a read-only temp dir): the same transaction, rendered whole first.
        if (run instanceof PipeUnavailableError) await this.apply(await joined(chunks))
        else await run.feed(chunks)
      },
      cancel: async () => {
        const run = await outcome().catch(() => undefined)
        if (run && !(run instanceof PipeUnavailableError)) await run.cancel()
      },
    }
  }

  /**
   * The table as `nft -s list table` prints it (no counters, so two listings of an unchanged table are equal),
   * or undefined when the table does not exist. Runs at low priority: it is a background check, and listing a large
   * table takes seconds of CPU that policy updates should get first.
   */
  async list(table: NftTableRef): Promise<string | undefined> {
    try {
      return (await this.run(['-s', 'list', 'table', table.family, table.name], undefined, {nice: 10})).stdout
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
    await this.run(['--check', '-f', '-'], script)
  }

  /** `nft --version` output: whether the binary exists and works. */
  async version(): Promise<string> {
    return (await this.run(['--version'])).stdout.trim()
  }
}

async function joined(chunks: Iterable<string> | AsyncIterable<string>): Promise<string> {
  let text = ''
  for await (const chunk of chunks) text += chunk
  return text
}
