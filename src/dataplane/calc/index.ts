// Public API of the policy calculation layer (pure: no I/O, no clock).
//
// The agent feeds every datastore change in, then reads the desired state out when it wants to apply:
//
//   const calc = new PolicyCalculator(nodeName)
//   calc.update({type: 'set', resource})                  // WEP, HEP, Profile (incl. kns./ksa.), Tier, (Global)
//   calc.update({type: 'delete', kind, name, namespace})  // NetworkPolicy, KubernetesNetworkPolicy, Staged*,
//                                                         // (Global)NetworkSet, FelixConfiguration, IPPool, Node
//   calc.setHostInterfaces(new Map([['eth0', ['192.168.1.10']]]))  // for HEPs given by expectedIPs only
//   const state = calc.state()        // PolicyState: endpoints with ordered tiers, policies, profiles, IP sets
//   calc.problems()                   // resources ignored as uninterpretable, with reasons
//
// Kubernetes NetworkPolicies are converted first with src/api/k8s-networkpolicy (naming 'knp'); Namespaces and
// ServiceAccounts become profiles via namespaceProfile() / serviceAccountProfile().
export * from './types.js'
export {PolicyCalculator, computePolicyState, policyKey, DEFAULT_TIER, DEFAULT_TIER_ORDER} from './calculator.js'
export {defaultSettings, settingsFrom, DEFAULT_FAILSAFE_INBOUND, DEFAULT_FAILSAFE_OUTBOUND} from './settings.js'
export {namespaceProfile, serviceAccountProfile} from './profiles.js'
