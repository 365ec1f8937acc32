// Container and network names: Docker's validation rules and texts, and a
// generator for random container names.

import { InvalidArgumentError } from './errors.js';

const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's rule: at least two characters, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, optional leading '/'. */
export function isValidContainerName(name: string): boolean {
  return CONTAINER_NAME.test(name);
}

/**
 * Returns the name without a leading '/', or throws Docker's
 * `Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`.
 */
export function validateContainerName(name: string): string {
  if (!isValidContainerName(name)) {
    throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

/** The networks every engine has; they cannot be created or removed by name. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none', 'default'];

export function isPredefinedNetwork(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}

/**
 * Validates the name given to `network create`, with Docker's texts:
 * `operation is not permitted on predefined bridge network ` (the trailing
 * space is Docker's) and `invalid name: ` for a blank name. Docker accepts any
 * other text; plumb also refuses '/' and control characters, which cannot be
 * kept in its state directory or printed safely.
 */
export function validateNetworkName(name: string): string {
  if (isPredefinedNetwork(name)) {
    throw new InvalidArgumentError(`operation is not permitted on predefined ${name} network `);
  }
  if (name.trim() === '') throw new InvalidArgumentError(`invalid name: ${name}`);
  // eslint-disable-next-line no-control-regex
  if (/[/\x00-\x1f\x7f]/.test(name)) {
    throw new InvalidArgumentError(`invalid name: ${name} (network names cannot contain '/' or control characters)`);
  }
  return name;
}

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
export function generateName(taken: ReadonlySet<string> | readonly string[] = [], random: () => number = Math.random): string {
  const used = taken instanceof Set ? taken : new Set(taken as readonly string[]);
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
