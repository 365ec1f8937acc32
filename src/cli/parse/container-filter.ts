// `ps --filter`, with the keys and matching rules of Docker's daemon
// (daemon/list.go): name and id as all or part (or a regular expression),
// status and exited exact, network by name or ID, label k or k=v, ancestor by
// image label, publish/expose by port[/proto], before/since by container.
// Several values of one key are alternatives; different keys must all match.
import { InvalidArgumentError } from 'commander';
import { exactMatch, type FilterArgs, fuzzyMatch, matchLabels, parseFilters } from './options.js';

export const CONTAINER_FILTER_KEYS: readonly string[] = [
  'name', 'id', 'status', 'exited', 'network', 'label', 'ancestor', 'publish', 'expose', 'before', 'since',
];

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** What a filter needs to know of one container. */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  exitCode: number;
  created: string;
  labels: Readonly<Record<string, string>>;
  /** Names and IDs of the networks it is on. */
  networks: ReadonlyArray<{ id: string; name: string }>;
  published: ReadonlyArray<{ port: number; proto: string }>;
  exposed: ReadonlyArray<{ port: number; proto: string }>;
}

/** `80`, `80/udp`, `8000-8002/tcp` as a predicate on a port. */
function portMatcher(spec: string): (p: { port: number; proto: string }) => boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`invalid port filter '${spec}': use PORT, PORT/PROTO or START-END/PROTO`);
  const first = Number(m[1]);
  const last = m[2] ? Number(m[2]) : first;
  const proto = m[3] ?? 'tcp';
  return (p) => p.proto === proto && p.port >= first && p.port <= last;
}

/** An image label matches its own name and, without a tag, the `:latest` one. */
function ancestorMatches(values: Set<string>, image: string): boolean {
  const tagged = image.includes(':') ? image : `${image}:latest`;
  for (const v of values) if (v === image || v === tagged || `${v}:latest` === tagged) return true;
  return false;
}

/**
 * The `ps --filter` predicate. `all` lists every container, used by
 * before/since to find their reference by name or ID.
 */
export function containerFilter(args: FilterArgs, all: readonly ContainerSummary[]): (c: ContainerSummary) => boolean {
  for (const key of args.keys()) {
    if (!CONTAINER_FILTER_KEYS.includes(key)) throw new InvalidArgumentError(`Invalid filter '${key}'`);
  }
  for (const s of args.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidArgumentError(`Unrecognised filter value for status: ${s}`);
  }
  for (const e of args.get('exited') ?? []) {
    if (!/^-?\d+$/.test(e)) throw new InvalidArgumentError(`invalid filter 'exited=${e}': exited takes an exit code`);
  }
  const refTime = (key: 'before' | 'since'): string | undefined => {
    const values = args.get(key);
    if (!values || values.size === 0) return undefined;
    if (values.size > 1) throw new InvalidArgumentError(`got more than one value for filter key "${key}"`);
    const ref = [...values][0]!;
    const hit = all.find((c) => c.name === ref || c.id === ref) ?? all.find((c) => c.id.startsWith(ref));
    if (!hit) throw new InvalidArgumentError(`No such container: ${ref}`);
    return hit.created;
  };
  const before = refTime('before');
  const since = refTime('since');
  const publish = [...(args.get('publish') ?? [])].map(portMatcher);
  const expose = [...(args.get('expose') ?? [])].map(portMatcher);
  const networks = args.get('network');
  const exited = args.get('exited');

  return (c) => {
    if (!fuzzyMatch(args.get('name'), c.name)) return false;
    if (!fuzzyMatch(args.get('id'), c.id)) return false;
    if (!exactMatch(args.get('status'), c.state)) return false;
    if (exited && exited.size > 0 && (c.state !== 'exited' || !exited.has(String(c.exitCode)))) return false;
    if (!matchLabels(args.get('label'), c.labels)) return false;
    if (args.get('ancestor')?.size && !ancestorMatches(args.get('ancestor')!, c.image)) return false;
    if (networks && networks.size > 0 && !c.networks.some((n) => networks.has(n.name) || networks.has(n.id) || [...networks].some((v) => v.length >= 3 && n.id.startsWith(v)))) return false;
    if (publish.length && !c.published.some((p) => publish.some((m) => m(p)))) return false;
    if (expose.length && ![...c.exposed, ...c.published].some((p) => expose.some((m) => m(p)))) return false;
    if (before !== undefined && !(c.created < before)) return false;
    if (since !== undefined && !(c.created > since)) return false;
    return true;
  };
}

export function containerFilterFromFlags(values: readonly string[], all: readonly ContainerSummary[]): (c: ContainerSummary) => boolean {
  return containerFilter(parseFilters(values), all);
}
