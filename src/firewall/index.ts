// Public surface of firewall/: pure rule rendering, no I/O.
export * from './types.js';
export * from './chains.js';
export { buildRules, rulesFor } from './rules.js';
export * from './render.js';
export * from './save.js';
export { updateText } from './update.js';
export { forwardPolicyOf, forwardPolicyText, userChainReturnText } from './policy.js';
