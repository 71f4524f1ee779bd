// Loads the bundled calicoctl (dist/calicoctl.cjs: the commands, the CLI and @oclif/core in one CommonJS file,
// built by scripts/bundle.mjs) with V8's code cache. Node 20 has no module compile cache, and loading ~180
// separate files and compiling them again on every start was most of a cold `calicoctl get`; one file compiled
// from a cache is a fraction of that. Kept free of other imports: it runs before anything else is loaded, and
// bin/calicoctl (CommonJS) requires it as a CommonJS copy, dist/launch.cjs (scripts/bundle.mjs says why).
//
// The cache (dist/calicoctl.cjs.cache, written by scripts/code-cache.mjs after a representative run) starts with
// the CRC-32 of the bundle it was made from and is used only for that bundle: V8's own check covers its version, its
// flags and the source *length*, so a rebuilt bundle of the same length would otherwise run stale compiled code.
// The checksum only has to tell builds apart (whoever can write the cache can write the bundle), and CRC-32 does that
// for a third of what loading node:crypto and a SHA-1 of the 2 MB bundle cost: those were a quarter of the
// instructions calicoctl added to Node's own start (BENCHMARKS.md). A missing, stale or rejected cache only costs speed.
//
// The etcd client (etcd3, grpc-js, proto-loader, protobufjs) is a second bundle, dist/etcd-client.cjs, loaded the
// same way but only when the etcd backend watches (reads and writes use its own small client; scripts/bundle.mjs):
// from ~150 files through Node's loader it took a fifth of a bulk `get` on etcd, back when reads used it.
import {readFileSync, realpathSync, renameSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {dirname} from 'node:path'
import {Script} from 'node:vm'
import {crc32} from 'node:zlib'

/** The bundle's exports (src/commands/registry.ts). */
export interface CalicoctlBundle {
  runCalicoctl(argv: readonly string[], root: string): Promise<void>
}

export interface LoadedBundle<T = CalicoctlBundle> {
  exports: T
  /** The compiled bundle; `codeCacheFor` serialises what V8 compiled so far. */
  script: Script
  /** Whether compiled code came from the cache file (false: none, stale, or rejected by V8). */
  cacheUsed: boolean
  /** CRC-32 of the bundle text (hex), the key of its cache. */
  sourceHash: string
}

const HASH_LENGTH = 8

export function cachePathFor(bundlePath: string): string {
  return `${bundlePath}.cache`
}

/** The cache file's V8 data if it was made from the bundle with this hash, else undefined. */
function readCodeCache(path: string, sourceHash: string): Buffer | undefined {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch {
    return undefined
  }
  if (data.length <= HASH_LENGTH + 1 || data.toString('latin1', 0, HASH_LENGTH) !== sourceHash || data[HASH_LENGTH] !== 0x0a) {
    return undefined
  }
  return data.subarray(HASH_LENGTH + 1)
}

/**
 * Compiles and runs the bundle as the CommonJS module it is, registered in Node's module cache under its real
 * path so that oclif's explicit command loader (package.json `oclif.commands.target`) gets these same exports
 * instead of evaluating the file a second time.
 */
export function loadBundle<T = CalicoctlBundle>(bundlePath: string): LoadedBundle<T> {
  const file = realpathSync(bundlePath)
  const bytes = readFileSync(file)
  const sourceHash = crc32(bytes).toString(16).padStart(HASH_LENGTH, '0')
  // The bundle is ASCII (esbuild escapes everything else), so latin1 decodes it exactly and more cheaply than UTF-8.
  const source = bytes.toString('latin1')
  const cachedData = readCodeCache(cachePathFor(file), sourceHash)
  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  const require = createRequire(file)
  const module = new Module(file)
  module.filename = file
  require.cache[file] = module
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void
  wrapper.call(module.exports, module.exports, require, module, file, dirname(file))
  module.loaded = true
  return {
    exports: module.exports as T,
    script,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    sourceHash,
  }
}

/** Writes the code V8 has compiled for the loaded bundle so far as its cache (atomically: readers never see half). */
export function writeCodeCache(loaded: LoadedBundle<unknown>, bundlePath: string): number {
  const data = Buffer.concat([Buffer.from(`${loaded.sourceHash}\n`, 'latin1'), loaded.script.createCachedData()])
  const path = cachePathFor(realpathSync(bundlePath))
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, data)
  renameSync(temp, path)
  return data.length
}
