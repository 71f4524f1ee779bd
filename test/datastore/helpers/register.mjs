// `node --import ./register.mjs child.ts`: lets child processes spawned by tests run the TypeScript
// sources directly (vitest transforms only its own process), so cross-process tests exercise the real code.
import {register} from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
