// Public API of the policy calculation layer (pure: no I/O).
export * from './types.js'
export {PolicyCalculator, computePolicyState, policyKey, DEFAULT_TIER, DEFAULT_TIER_ORDER} from './calculator.js'
export {defaultSettings, settingsFrom, DEFAULT_FAILSAFE_INBOUND, DEFAULT_FAILSAFE_OUTBOUND} from './settings.js'
export {namespaceProfile, serviceAccountProfile} from './profiles.js'
