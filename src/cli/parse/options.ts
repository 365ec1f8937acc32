// Key/value flags and `network ls --filter`, with Docker 20.10's semantics and
// error texts. Validators throw InvalidArgumentError carrying the validator's
// text; wrap it with flagValueError() to get the whole line Docker prints.

import { InvalidArgumentError } from './errors.js';

/** Splits at the first '='; a value without '=' has an empty value. */
function splitKv(value: string): [string, string] {
  const i = value.indexOf('=');
  return i < 0 ? [value, ''] : [value.slice(0, i), value.slice(i + 1)];
}

/**
 * `--label k=v` values -> a map (later values win). Docker 20.10 requires an
 * '=': `bad attribute format: x`.
 */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    if (!v.includes('=')) throw new InvalidArgumentError(`bad attribute format: ${v}`);
    const [k, val] = splitKv(v);
    out[k] = val;
  }
  return out;
}

/**
 * `-o/--opt k=v`, `--ipam-opt k=v`, `--aux-address name=ip`: Docker's map
 * options, which accept `k` alone as `k=""` and never fail.
 */
export function parseKeyValues(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const [k, val] = splitKv(v);
    out[k] = val;
  }
  return out;
}

/** `--aux-address name=ip` values; the addresses are checked against subnets later. */
export function parseAuxAddresses(values: readonly string[]): Record<string, string> {
  return parseKeyValues(values);
}

/**
 * One `-e` value. `K=V` is kept as is; `K` alone takes K's value from `env`
 * when it is set there (`K=value`) and stays `K` otherwise.
 * Error: `invalid environment variable: =x`.
 */
export function parseEnv(value: string, env: Readonly<Record<string, string | undefined>> = {}): string {
  const [k] = value.split('=');
  if (k === '') throw new InvalidArgumentError(`invalid environment variable: ${value}`);
  if (value.includes('=')) return value;
  const v = env[value];
  return v === undefined ? value : `${value}=${v}`;
}

/** Every `-e` value, in order. */
export function parseEnvList(values: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): string[] {
  return values.map((v) => parseEnv(v, env));
}

// ---------------------------------------------------------------- filters

/** Filter values per key, as Docker keeps them: a set per lower-cased key. */
export type FilterArgs = Map<string, Set<string>>;

/**
 * Parses `--filter` values (`key=value`). Keys are lower-cased and both
 * sides trimmed; empty values are skipped, as Docker does.
 * Error: `bad format of filter (expected name=value)`.
 */
export function parseFilters(values: readonly string[]): FilterArgs {
  const args: FilterArgs = new Map();
  for (const raw of values) {
    if (raw === '') continue;
    if (!raw.includes('=')) throw new InvalidArgumentError('bad format of filter (expected name=value)');
    const [k, v] = splitKv(raw);
    const key = k.trim().toLowerCase();
    const set = args.get(key) ?? new Set<string>();
    set.add(v.trim());
    args.set(key, set);
  }
  return args;
}

/** What `network ls` knows about a network. */
export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  scope: string;
  labels: Readonly<Record<string, string>>;
  /** bridge, host, none (Docker: a predefined network name). */
  builtin: boolean;
  /** Number of attached containers; needed for the `dangling` filter. */
  containers?: number;
}

export const NETWORK_FILTER_KEYS: readonly string[] = ['driver', 'type', 'name', 'id', 'label', 'scope', 'dangling'];

export function exactMatch(values: Set<string> | undefined, source: string): boolean {
  if (!values || values.size === 0) return true;
  return values.has(source);
}

/** Docker's filters.Match: an exact value, or a value that matches as an unanchored regular expression. */
export function fuzzyMatch(values: Set<string> | undefined, source: string): boolean {
  if (!values || values.size === 0) return true;
  if (values.has(source)) return true;
  for (const v of values) {
    let re: RegExp;
    try {
      re = new RegExp(v);
    } catch {
      continue;
    }
    if (re.test(source)) return true;
  }
  return false;
}

/** Docker's filters.MatchKVList: every `label=k` / `label=k=v` must hold. */
export function matchLabels(values: Set<string> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!values || values.size === 0) return true;
  const keys = Object.keys(labels);
  if (keys.length === 0) return false;
  for (const v of values) {
    const i = v.indexOf('=');
    const k = i < 0 ? v : v.slice(0, i);
    if (!Object.prototype.hasOwnProperty.call(labels, k)) return false;
    if (i >= 0 && labels[k] !== v.slice(i + 1)) return false;
  }
  return true;
}

/**
 * Builds the `network ls --filter` predicate. Semantics of Docker 20.10:
 *  - `driver`, `scope`: exact; several values of one key are alternatives;
 *  - `name`, `id`: all or part of the name/ID (a value is also tried as a
 *    regular expression); several values are alternatives;
 *  - `label=k` / `label=k=v`: every given label must be present;
 *  - `type=custom|builtin`: several values are alternatives;
 *  - `dangling=true|1|false|0`: only networks without containers (never the
 *    built-in ones), or only the others;
 *  - different keys must all match.
 * Errors (Docker's texts): `Invalid filter 'x'`, `Invalid filter: 'type'='x'`,
 * `got more than one value for filter key "dangling"`, and the dangling value text.
 */
export function networkFilter(args: FilterArgs): (n: NetworkSummary) => boolean {
  for (const key of args.keys()) {
    if (!NETWORK_FILTER_KEYS.includes(key)) throw new InvalidArgumentError(`Invalid filter '${key}'`);
  }
  const types = args.get('type');
  if (types) {
    for (const t of types) {
      if (t !== 'custom' && t !== 'builtin') throw new InvalidArgumentError(`Invalid filter: 'type'='${t}'`);
    }
  }
  let dangling: boolean | undefined;
  const danglingValues = args.get('dangling');
  if (danglingValues && danglingValues.size > 0) {
    if (danglingValues.size > 1) throw new InvalidArgumentError('got more than one value for filter key "dangling"');
    const v = [...danglingValues][0]!;
    if (v === '1' || v === 'true') dangling = true;
    else if (v === '0' || v === 'false') dangling = false;
    else {
      throw new InvalidArgumentError(
        `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`,
      );
    }
  }

  return (n: NetworkSummary): boolean => {
    if (!exactMatch(args.get('driver'), n.driver)) return false;
    if (!fuzzyMatch(args.get('name'), n.name)) return false;
    if (!fuzzyMatch(args.get('id'), n.id)) return false;
    if (!matchLabels(args.get('label'), n.labels)) return false;
    if (!exactMatch(args.get('scope'), n.scope)) return false;
    if (dangling !== undefined) {
      const unused = !n.builtin && (n.containers ?? 0) === 0;
      if (unused !== dangling) return false;
    }
    if (types && types.size > 0) {
      const kind = n.builtin ? 'builtin' : 'custom';
      if (!types.has(kind)) return false;
    }
    return true;
  };
}

/** Parses `--filter` values and returns the `network ls` predicate in one step. */
export function networkFilterFromFlags(values: readonly string[]): (n: NetworkSummary) => boolean {
  return networkFilter(parseFilters(values));
}
