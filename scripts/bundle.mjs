// Bundles calicoctl (run by `npm run build` after tsc): dist/commands/**, the CLI and @oclif/core into one
// CommonJS file, dist/calicoctl.cjs, that bin/calicoctl loads with V8's code cache (src/cli/launch.ts); likewise the
// CNI plugins (dist/cni.cjs, for bin/calico and bin/calico-ipam) and the etcd client (dist/etcd-client.cjs).
// Loading one file instead of ~180, compiled from a cache, halves calicoctl's cold start on Node 20 (BENCHMARKS.md).
//
// The bundle exports `runCalicoctl` and `COMMANDS`, oclif's explicit command registry (package.json
// `oclif.commands`). The registry is generated here from dist/commands with oclif's pattern rules (a file's path
// is its id, `index` names its topic), so a new command file needs no registration. Each entry is a getter that
// requires its module on first use: esbuild keeps a required module's evaluation lazy, so `calicoctl get` runs
// only the get command's modules, while `oclif manifest` (which lists every entry) still sees them all.
import {build} from 'esbuild'
import {readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commandsDir = join(root, 'dist', 'commands')
const outfile = join(root, 'dist', 'calicoctl.cjs')

// Left to Node's loader, as without the bundle: the Kubernetes client and the prompt library that only some
// commands load (lazily, so the embedded path never pays for them), and what finds SQLite's native addon (below).
// typescript and ts-node are what oclif would use to run TypeScript sources in development; calicoctl never does.
const EXTERNAL = [
  '@kubernetes/client-node',
  '@inquirer/prompts',
  'bindings',
  'better-sqlite3/package.json',
  'typescript',
  'ts-node',
]

// better-sqlite3's JavaScript is bundled (through Node's loader its dozen files cost ~7 ms of a cold `get`), its
// native addon cannot be. better-sqlite3 finds the addon with the `bindings` package, which takes the package root
// from its caller's file name: in the bundle that would be dist/. This stands in for better-sqlite3's
// `require('bindings')` and hands bindings better-sqlite3's own root, so the addon is found as without the bundle.
const sqliteAddon = {
  name: 'better-sqlite3-addon',
  setup(build) {
    build.onResolve({filter: /^bindings$/}, (args) =>
      /[\\/]better-sqlite3[\\/]/.test(args.importer) ? {path: 'bindings', namespace: 'better-sqlite3-addon'} : undefined,
    )
    build.onLoad({filter: /.*/, namespace: 'better-sqlite3-addon'}, () => ({
      contents: `const {dirname} = require('node:path')
module.exports = (name) => require('bindings')({bindings: name, module_root: dirname(require.resolve('better-sqlite3/package.json'))})
`,
      loader: 'js',
      resolveDir: root,
    }))
  },
}

// The etcd client is its own code-cached bundle, dist/etcd-client.cjs (below): in the CLI bundle, the etcd
// backend's `import('etcd3')` (only reached by a watch; its reads and writes need no etcd3) loads that bundle
// through the launcher instead, so only commands that watch (the agent) load it.
const ETCD_BUNDLE = 'etcd-client.cjs'
const etcdClientBundle = {
  name: 'etcd-client-bundle',
  setup(build) {
    build.onResolve({filter: /^etcd3$/}, () => ({path: 'etcd3', namespace: 'etcd-client-bundle'}))
    build.onLoad({filter: /.*/, namespace: 'etcd-client-bundle'}, () => ({
      contents: `const {join} = require('node:path')
const {loadBundle} = require('./dist/cli/launch.js')
module.exports = loadBundle(join(__dirname, ${JSON.stringify(ETCD_BUNDLE)})).exports
`,
      loader: 'js',
      resolveDir: root,
    }))
  },
}

// etcd3 parses its .proto files (read from beside its package, a path it builds from __dirname, which in a bundle
// is dist/) on every load. The bundle carries the parsed definitions instead, as protobufjs JSON made here with
// proto-loader's own parsing and the options etcd3 passes; proto-loader's fromJSON builds the same package
// definition from it (types, services and file descriptors compare equal) without parsing .proto text at run
// time. The build fails if an etcd3 update changes the call, rather than loading something else.
// The options text exactly as etcd3's compiled code spells it (the call is matched verbatim) and reused for fromJSON.
const ETCD_PROTO_OPTIONS = `{
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
}`
const ETCD_PROTO_CALL = `(0, proto_loader_1.loadSync)(\`\${__dirname}/../proto/rpc.proto\`, ${ETCD_PROTO_OPTIONS});`
const etcdProtoDefinitions = {
  name: 'etcd3-proto-definitions',
  setup(build) {
    build.onLoad({filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/}, async (args) => {
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes(ETCD_PROTO_CALL)) throw new Error(`${args.path} no longer calls ${ETCD_PROTO_CALL}: review scripts/bundle.mjs`)
      const {loadProtosWithOptionsSync} = createRequire(args.path)('@grpc/proto-loader/build/src/util')
      const options = {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true}
      const root = loadProtosWithOptionsSync(join(dirname(args.path), '..', 'proto', 'rpc.proto'), options)
      const call = `(0, proto_loader_1.fromJSON)(${JSON.stringify(root.toJSON())}, ${ETCD_PROTO_OPTIONS});`
      return {contents: text.replace(ETCD_PROTO_CALL, call), loader: 'js'}
    })
  },
}

// oclif sorts its command list with String#localeCompare on every start, and the first localeCompare in a process
// loads ICU's collator: about 7 ms of CPU, 5% of a cold `calicoctl get`. Command ids are lowercase words, `:` and
// `_`, which sort the same by code unit (test/e2e/cli-bundle.test.ts checks ours), so the bundled copy compares
// code units. The build fails if an oclif update changes the line, rather than silently losing the saving.
const LOCALE_SORT = '.sort((a, b) => a.id.localeCompare(b.id))'
const CODE_UNIT_SORT = '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'
const oclifCommandSort = {
  name: 'oclif-command-sort',
  setup(build) {
    build.onLoad({filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes(LOCALE_SORT)) throw new Error(`${args.path} no longer sorts with "${LOCALE_SORT}": review scripts/bundle.mjs`)
      return {contents: text.replace(LOCALE_SORT, CODE_UNIT_SORT), loader: 'js'}
    })
  },
}

// Modules oclif requires when it loads but uses only for what a `calicoctl` run rarely does: finding commands by
// glob (ours are listed explicitly), matching core plugins, rendering help templates, detecting colour support and
// colouring, formatting its own error output and spinners (calicoctl prints its errors itself), child processes
// (only for finding the shell on Windows), performance marks (only with OCLIF_PERFORMANCE or debug) and reading
// stdin line by line (only for an argument or flag that allows stdin, which ours refuse). Inside @oclif/core each of them is replaced by a stand-in that requires
// the real module on first use, so a run that never uses it never evaluates it. oclif reaches them as
// `require(x).name` or `__importDefault(require(x)).default`; the stand-in answers both (it says __esModule, and
// `default` is what __importDefault would have made of the real module).
const OCLIF_DEFERRED = [
  'tinyglobby', 'minimatch', 'ejs', 'ansis', 'supports-color', 'wrap-ansi', 'indent-string', 'clean-stack', 'cli-spinners',
  'node:child_process', 'node:perf_hooks', 'node:readline',
]
const oclifDeferred = {
  name: 'oclif-deferred',
  setup(build) {
    const names = new RegExp(`^(${OCLIF_DEFERRED.join('|')})$`)
    build.onResolve({filter: names}, (args) => {
      if (!/[\\/]@oclif[\\/]core[\\/]/.test(args.importer)) return undefined
      return {path: createRequire(args.importer).resolve(args.path), namespace: 'oclif-deferred'}
    })
    build.onLoad({filter: /.*/, namespace: 'oclif-deferred'}, (args) => ({
      contents: `let real
const load = () => (real ??= require(${JSON.stringify(args.path)}))
module.exports = new Proxy({}, {
  get(_, key) {
    if (key === '__esModule') return true
    const m = load()
    return key === 'default' && !(m && m.__esModule) ? m : m[key]
  },
})
`,
      loader: 'js',
      resolveDir: root,
    }))
  },
}

// oclif asks wsl-utils on every start whether this is WSL (Config.load's platform), and wsl-utils and the
// powershell-utils it imports load node:child_process when they load: ~3 ms of a cold start. Inside @oclif/core,
// wsl-utils is replaced by a stand-in that answers `isWsl` from is-wsl (what wsl-utils re-exports) and delegates the
// other export oclif uses to the real module on first use. The build fails if oclif starts using another export.
const WSL_UTILS_USED = new Set(['isWsl', 'powerShellPath'])
const oclifWslUtils = {
  name: 'oclif-wsl-utils',
  setup(build) {
    build.onResolve({filter: /^wsl-utils$/}, (args) => {
      if (!/[\\/]@oclif[\\/]core[\\/]/.test(args.importer)) return undefined
      const text = readFileSync(args.importer, 'utf8')
      const uses = [...text.matchAll(/import\('wsl-utils'\)\)\.(\w+)/g)].map((m) => m[1])
      if (uses.length !== text.split("import('wsl-utils')").length - 1 || uses.some((u) => !WSL_UTILS_USED.has(u))) {
        throw new Error(`${args.importer} uses wsl-utils beyond ${[...WSL_UTILS_USED].join(', ')}: review scripts/bundle.mjs`)
      }
      return {path: createRequire(args.importer).resolve(args.path), namespace: 'oclif-wsl-utils'}
    })
    build.onLoad({filter: /.*/, namespace: 'oclif-wsl-utils'}, (args) => ({
      contents: `module.exports = {
  isWsl: require('is-wsl').default,
  powerShellPath: (...args) => require(${JSON.stringify(args.path)}).powerShellPath(...args),
}
`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }))
  },
}

// oclif's debug loggers: the `debug` package reads DEBUG once, when it loads, and without it every logger does
// nothing. Inside @oclif/core it is loaded only when DEBUG is set; otherwise loggers are no-ops from the start.
const oclifDebug = {
  name: 'oclif-debug',
  setup(build) {
    build.onResolve({filter: /^debug$/}, (args) => {
      if (!/[\\/]@oclif[\\/]core[\\/]/.test(args.importer)) return undefined
      return {path: createRequire(args.importer).resolve(args.path), namespace: 'oclif-debug'}
    })
    build.onLoad({filter: /.*/, namespace: 'oclif-debug'}, (args) => ({
      contents: `module.exports = process.env.DEBUG ? require(${JSON.stringify(args.path)}) : () => () => {}\n`,
      loader: 'js',
      resolveDir: root,
    }))
  },
}

/** Fails when the bundle renamed an error class (`FooError2 = class`), which would change its `name` (keepNames above). */
function checkErrorClassNames(result, file) {
  const text = result.outputFiles[0].text
  const renamed = [...text.matchAll(/\b(\w*Error)\d+ = class\b|\bclass (\w*Error)\d+\b/g)].map((m) => m[1] ?? m[2])
  if (renamed.length > 0) throw new Error(`${file} would rename the error classes ${[...new Set(renamed)].join(', ')}: review scripts/bundle.mjs`)
}

/** Fails when the bundle kept an import(): it runs under vm.Script, where Node 20 has no import() (see `supported`). */
function checkNoDynamicImport(result, file) {
  const dynamic = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === 'dynamic-import'))
  if (dynamic.length > 0) throw new Error(`${file} would keep import() of ${dynamic.map((i) => i.path).join(', ')}; it cannot run under vm.Script`)
}

function commandFiles(dir) {
  return readdirSync(dir, {withFileTypes: true})
    .flatMap((e) => (e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []))
    .sort()
}

function commandId(file) {
  const parts = relative(commandsDir, file).replace(/\.js$/, '').split(/[\\/]/)
  if (parts.at(-1) === 'index') parts.pop()
  return parts.join(':')
}

const entries = commandFiles(commandsDir).map((file) => {
  const specifier = `./${relative(root, file).replaceAll('\\', '/')}`
  return `  get ${JSON.stringify(commandId(file))}() { return require(${JSON.stringify(specifier)}).default },`
})
const entry = `module.exports = {
  runCalicoctl: require('./dist/cli/main.js').runCalicoctl,
  COMMANDS: {
${entries.join('\n')}
  },
}
`

/** What the calicoctl and CNI bundles share: CommonJS for Node 20, loaded through vm.Script with a code cache. */
const LAUNCHED_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: EXTERNAL,
  // The bundle runs through vm.Script (for the code cache), where Node 20 offers import() only behind
  // --experimental-vm-modules; the externals are loaded with require instead (etcd3 is CommonJS, and Node
  // >= 20.19 requires the ES-module-only ones).
  supported: {'dynamic-import': false},
  // No keepNames: it wraps every named function in a call that defines its `name`, also each time a closure is
  // created, ~77,000 calls in an agent start with 1,000 policies. The names that are behaviour (CalicoError and
  // subclasses name themselves after their class; etcd3's and oclif's errors are recognised by class name) all end in
  // `Error`, and checkErrorClassNames below fails the build if esbuild renames one of them (it appends a number to a
  // name that collides in the bundle's scope).
  keepNames: false,
  // ASCII only, so the launcher can decode the file as latin1.
  charset: 'ascii',
  write: false,
  metafile: true,
  logLevel: 'warning',
}

const result = await build({
  ...LAUNCHED_BUNDLE,
  stdin: {contents: entry, resolveDir: root, sourcefile: 'calicoctl-entry.cjs', loader: 'js'},
  // oclif's check of the Node version reads package.json next to its own files, which in the bundle is ours,
  // and compiles semver's grammar on every start to do so; npm's engine-strict enforces our engines already.
  define: {'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"1"'},
  plugins: [oclifCommandSort, oclifDeferred, oclifWslUtils, oclifDebug, sqliteAddon, etcdClientBundle],
})

// A warning is a bundle that would behave differently from the modules it came from: esbuild turns an import of
// a name the target does not export into `undefined` (where Node fails at link time), e.g. when dist/ was
// half-rebuilt while bundling.
if (result.warnings.length > 0) throw new Error(`esbuild warned (${result.warnings.length}); not writing the bundle`)

checkErrorClassNames(result, 'dist/calicoctl.cjs')

checkNoDynamicImport(result, 'dist/calicoctl.cjs')

// The CNI plugins (bin/calico, bin/calico-ipam): dist/cni/main.js and what it imports, as one CommonJS file loaded
// with its code cache like calicoctl. A kubelet starts a plugin process for every pod ADD and DEL, and Node's module
// loaders took a quarter of such a process's CPU for the ~235 files of dist/ and node_modules it opened (BENCHMARKS.md).
// Datastore backends stay lazily evaluated (each is reached through the factory's import(), evaluated on first use),
// so an ADD on etcd evaluates neither SQLite's nor the Kubernetes client's modules. runPlugin is exported for
// scripts/code-cache.mjs, which warms the cache by running the plugin in process.
const cniOutfile = join(root, 'dist', 'cni.cjs')
const cniResult = await build({
  ...LAUNCHED_BUNDLE,
  stdin: {contents: `const {main, runPlugin} = require('./dist/cni/main.js')\nmodule.exports = {main, runPlugin}\n`, resolveDir: root, sourcefile: 'cni-entry.cjs', loader: 'js'},
  plugins: [sqliteAddon, etcdClientBundle],
})
if (cniResult.warnings.length > 0) throw new Error(`esbuild warned (${cniResult.warnings.length}) on the CNI plugin; not writing the bundles`)
checkErrorClassNames(cniResult, 'dist/cni.cjs')
checkNoDynamicImport(cniResult, 'dist/cni.cjs')

const etcdOutfile = join(root, 'dist', ETCD_BUNDLE)
const etcdResult = await build({
  stdin: {contents: `module.exports = require('etcd3')\n`, resolveDir: root, sourcefile: 'etcd-client-entry.cjs', loader: 'js'},
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  supported: {'dynamic-import': false},
  plugins: [etcdProtoDefinitions],
  keepNames: false,
  charset: 'ascii',
  write: false,
  logLevel: 'warning',
})
if (etcdResult.warnings.length > 0) throw new Error(`esbuild warned (${etcdResult.warnings.length}) on the etcd client; not writing the bundles`)
checkErrorClassNames(etcdResult, 'dist/etcd-client.cjs')

// bin/calicoctl, a CommonJS script, requires the launcher (dist/cli/launch.js, an ES module like everything tsc
// emits) as this CommonJS copy: loading the ES module would start Node's ES module loader, and its static imports of
// Node built-ins would make Node build namespaces of all their exports, running their lazy getters (node:crypto's
// pulls in WebCrypto): ~35 more of Node's internal modules than require() loads (BENCHMARKS.md).
const launcherOutfile = join(root, 'dist', 'launch.cjs')
const launcherResult = await build({
  entryPoints: [join(root, 'dist', 'cli', 'launch.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii',
  write: false,
  metafile: true,
  logLevel: 'warning',
})
// It runs before anything else is loaded, so it must stay free of imports other than Node's (src/cli/launch.ts).
const launcherInputs = Object.keys(launcherResult.metafile.inputs)
if (launcherResult.warnings.length > 0 || launcherInputs.length !== 1) {
  throw new Error(`the launcher must be one module importing only Node built-ins, got ${launcherInputs.join(', ')}; not writing the bundles`)
}

// Replace atomically (a concurrent run sees the old bundle or the new one), and drop the old bundles' caches:
// scripts/code-cache.mjs writes the new ones.
for (const [file, contents] of [
  [outfile, result.outputFiles[0].contents],
  [etcdOutfile, etcdResult.outputFiles[0].contents],
  [launcherOutfile, launcherResult.outputFiles[0].contents],
  [cniOutfile, cniResult.outputFiles[0].contents],
]) {
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, contents)
  renameSync(temp, file)
  rmSync(`${file}.cache`, {force: true})
}
process.stdout.write(`bundled ${entries.length} commands into ${relative(root, outfile)} (${result.outputFiles[0].contents.length} bytes)\n`)
process.stdout.write(`bundled the CNI plugins into ${relative(root, cniOutfile)} (${cniResult.outputFiles[0].contents.length} bytes)\n`)
process.stdout.write(`bundled the etcd client into ${relative(root, etcdOutfile)} (${etcdResult.outputFiles[0].contents.length} bytes)\n`)
