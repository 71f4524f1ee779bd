// Public API of the nftables rendering layer (pure: no I/O).
//
//   const table = renderTable(state)            // PolicyState → NftTable model (table `inet calico`)
//   renderFullScript(table)                     // start-up: one `nft -f` transaction replacing the whole table
//   new FullScriptStream(state)                 // the same transaction in chunks, rendered as nft reads them;
//                                               // its .table afterwards (Nft.applyStream writes it into nft)
//   diffTables(prevTable, table).script         // later: minimal delta transaction ('' when nothing changed)
//   new TableEvaluator(table).evaluatePath(['prerouting', 'forward'], packet)   // what would happen, and why
//
// The applier keeps the last table it applied successfully; after a failed apply it should fall back to
// renderFullScript (the kernel state is then unknown).
export * from './model.js'
export {DEFAULT_TABLE_NAME, FullScriptStream, renderTable, type RenderOptions} from './render.js'
export {renderFullScript, renderListing, ruleText, setElementsScript} from './text.js'
export {diffTables, type TableDelta} from './diff.js'
export {TableEvaluator, chainText, type EvalResult, type FinalVerdict, type Packet} from './evaluate.js'
export {MARK_ACCEPT, MARK_DROP, MARK_PASS, MARK_SCRATCH0, MARK_SCRATCH1, endpointChainName, policyChainName, profileChainName, setName} from './names.js'
