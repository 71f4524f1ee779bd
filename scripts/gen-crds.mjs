// Writes manifests/crds from the built sources (run after `npm run build`; npm run gen:crds does both).
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {crdFiles} from '../dist/datastore/kubernetes/crds.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'manifests', 'crds')
// Start clean so a kind that disappears from the schema also disappears from the manifests.
for (const dir of [root, join(root, 'v3')]) {
  mkdirSync(dir, {recursive: true})
  for (const f of readdirSync(dir)) if (f.endsWith('.yaml')) rmSync(join(dir, f))
}
for (const {path, text} of crdFiles()) {
  mkdirSync(dirname(join(root, path)), {recursive: true})
  writeFileSync(join(root, path), text)
}
process.stdout.write(`wrote ${crdFiles().length} CRDs under manifests/crds\n`)
