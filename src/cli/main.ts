// calicoctl's process entry: cobra-style argv preparation, oclif's run, and one line on stderr for what fails
// before a command runs (unknown command or flag). Bundled with @oclif/core into dist/calicoctl.cjs, so the
// oclif used here is the same copy the bundled commands extend.
import {flush, run} from '@oclif/core'

import {describeTopLevelError, prepareArgv} from './argv.js'

/**
 * Runs calicoctl on `argv` (without node and script). `root` is a path or file URL inside the package (oclif
 * finds package.json and the manifest from it). Commands report their own errors and set process.exitCode.
 */
export async function runCalicoctl(argv: readonly string[], root: string): Promise<void> {
  const prepared = prepareArgv(argv)
  if (prepared.error !== undefined) {
    process.stderr.write(`${prepared.error}\n`)
    process.exitCode = 1
    return
  }
  try {
    await run(prepared.args, root)
    await flush()
  } catch (err) {
    process.stderr.write(`${describeTopLevelError(err, 'calicoctl')}\n`)
    process.exitCode = 1
  }
}
