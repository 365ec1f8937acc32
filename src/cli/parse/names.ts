// Container and network names: Docker's validation rules and texts, and a
// generator for random container names.

// Container names: the rule lives below the engine, which checks it too.
export { isValidContainerName, validateContainerName } from '../../validate/names.js';
// Network names: the rule lives below the engine, which checks it too.
export { PREDEFINED_NETWORKS, isPredefinedNetwork, validateNetworkName } from '../../validate/names.js';

// Word lists for generated names: qualities and things from networking and
// nature. No word is a person's name.
export const NAME_ADJECTIVES: readonly string[] = Object.freeze([
  'agile', 'amber', 'ancient', 'azure', 'bold', 'brave', 'breezy', 'bright', 'brisk', 'calm',
  'candid', 'clever', 'cosmic', 'crisp', 'curious', 'daring', 'dashing', 'deep', 'eager', 'early',
  'electric', 'elegant', 'fearless', 'fluent', 'fond', 'frosty', 'gentle', 'gleaming', 'golden', 'graceful',
  'green', 'happy', 'hardy', 'hidden', 'humble', 'icy', 'jolly', 'keen', 'kind', 'lively',
  'lucid', 'lunar', 'mellow', 'merry', 'misty', 'modest', 'nimble', 'noble', 'patient', 'placid',
  'polite', 'proud', 'quick', 'quiet', 'rapid', 'restless', 'rustic', 'serene', 'sharp', 'shiny',
  'silent', 'silver', 'sleepy', 'snappy', 'solar', 'sparkling', 'steady', 'stoic', 'sturdy', 'sunny',
  'swift', 'tender', 'tidy', 'tranquil', 'trusty', 'upbeat', 'vibrant', 'vivid', 'wandering', 'warm',
  'wild', 'wise', 'witty', 'zealous', 'zesty',
]);

export const NAME_NOUNS: readonly string[] = Object.freeze([
  // networking
  'antenna', 'bridge', 'buffer', 'cable', 'channel', 'checksum', 'datagram', 'firewall', 'frame', 'gateway',
  'handshake', 'header', 'hub', 'interface', 'link', 'mesh', 'modem', 'namespace', 'netmask', 'node',
  'packet', 'payload', 'ping', 'port', 'protocol', 'proxy', 'queue', 'relay', 'repeater', 'resolver',
  'route', 'router', 'segment', 'signal', 'socket', 'subnet', 'switch', 'tunnel', 'uplink', 'vlan',
  // nature
  'acorn', 'aurora', 'badger', 'beacon', 'birch', 'brook', 'canyon', 'cedar', 'comet', 'coral',
  'cove', 'crane', 'delta', 'dune', 'falcon', 'fern', 'fjord', 'glacier', 'grove', 'harbor',
  'heron', 'island', 'lagoon', 'lichen', 'maple', 'meadow', 'nebula', 'otter', 'pebble', 'pine',
  'prairie', 'raven', 'reef', 'ridge', 'river', 'sparrow', 'spruce', 'summit', 'tide', 'willow',
]);

/**
 * A random `adjective_noun` name that is not in `taken`. When the plain
 * combinations keep colliding, a digit is appended (`brave_router3`), as
 * Docker does. `random` returns a float in [0, 1) and defaults to Math.random.
 */
export function generateName(taken: Pick<ReadonlySet<string>, 'has'> | readonly string[] = [], random: () => number = Math.random): string {
  const used: Pick<ReadonlySet<string>, 'has'> = Array.isArray(taken) ? new Set(taken as readonly string[]) : (taken as Pick<ReadonlySet<string>, 'has'>);
  const pick = (list: readonly string[]): string => list[Math.floor(random() * list.length) % list.length]!;
  for (let attempt = 0; attempt < 1000; attempt++) {
    let name = `${pick(NAME_ADJECTIVES)}_${pick(NAME_NOUNS)}`;
    if (attempt >= 10) name += String(Math.floor(random() * 10) % 10);
    if (!used.has(name)) return name;
  }
  // every random draw collided: walk the space in order
  for (let n = 0; ; n++) {
    for (const a of NAME_ADJECTIVES) {
      for (const b of NAME_NOUNS) {
        const name = `${a}_${b}${n === 0 ? '' : n}`;
        if (!used.has(name)) return name;
      }
    }
  }
}
