// Public API of the nftables rendering layer (pure: no I/O).
export * from './model.js'
export {DEFAULT_TABLE_NAME, renderTable, type RenderOptions} from './render.js'
export {renderFullScript, renderListing, ruleText} from './text.js'
export {diffTables, type TableDelta} from './diff.js'
export {TableEvaluator, chainText, type EvalResult, type FinalVerdict, type Packet} from './evaluate.js'
export {MARK_ACCEPT, MARK_DROP, MARK_PASS, MARK_SCRATCH0, MARK_SCRATCH1, endpointChainName, policyChainName, profileChainName, setName} from './names.js'
