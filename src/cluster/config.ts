// Where this host's cluster store is and which address it advertises, the
// way Docker's classic daemon took them (--cluster-store etcd://HOST:2379
// --cluster-advertise IP|IFACE[:PORT]). Sources, strongest first: the global
// CLI flags (copied into the environment by the CLI), the environment
// (PLUMB_CLUSTER_STORE, PLUMB_CLUSTER_ADVERTISE, PLUMB_NODE_NAME), then a JSON
// config file (PLUMB_CONFIG, else /etc/plumb/config.json) with the keys
// "cluster-store", "cluster-advertise" and "node-name".
// Pure apart from reading that one file: nothing here loads the etcd client.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const DEFAULT_CONFIG_FILE = '/etc/plumb/config.json';

export interface ClusterConfig {
  /** As given, e.g. etcd://192.168.205.10:2379. */
  store: string;
  /** host:port pairs of the etcd endpoints. */
  endpoints: string[];
  /** Key prefix in etcd (the URL's path, default /plumb). */
  prefix: string;
  /** An IPv4 address, or an interface name to take the address from. */
  advertise?: string;
  /** This host's name among the peers (default: the hostname). */
  nodeName: string;
  /** The file the settings came from, if any (for messages). */
  file?: string;
}

export class ClusterConfigError extends Error {}

interface FileConfig {
  'cluster-store'?: string;
  'cluster-advertise'?: string;
  'node-name'?: string;
  icc?: boolean;
  'bridge-name'?: string;
}

/** The config file this environment names (PLUMB_CONFIG, else the default), and whether it was named explicitly. */
function configFilePath(env: NodeJS.ProcessEnv): { path: string; explicit: boolean } {
  return env.PLUMB_CONFIG ? { path: env.PLUMB_CONFIG, explicit: true } : { path: DEFAULT_CONFIG_FILE, explicit: false };
}

/** The config file's settings, or undefined when the default file does not exist (a named one must). */
function readConfigFile({ path, explicit }: { path: string; explicit: boolean }): FileConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!explicit && (err as { code?: string }).code === 'ENOENT') return undefined;
    throw new ClusterConfigError(`cannot read the plumb config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as FileConfig;
  } catch (err) {
    throw new ClusterConfigError(`the plumb config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Parses etcd://host:port[,host:port...][/prefix] (http:// is accepted too). */
export function parseStoreUrl(url: string): { endpoints: string[]; prefix: string } {
  const m = /^(etcd|http):\/\/([^/]+)(\/.*)?$/.exec(url.trim());
  if (!m) {
    throw new ClusterConfigError(`invalid cluster store "${url}": use etcd://HOST:PORT (for example etcd://192.168.205.10:2379)`);
  }
  const endpoints = m[2]!.split(',').map((h) => (/:\d+$/.test(h) ? h : `${h}:2379`));
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return { endpoints, prefix: path || '/plumb' };
}

/** The cluster configuration, or undefined when none is set (single-host plumb). */
export function clusterConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig | undefined {
  const where = configFilePath(env);
  const file = readConfigFile(where);
  const store = env.PLUMB_CLUSTER_STORE || file?.['cluster-store'];
  if (!store) return undefined;
  const { endpoints, prefix } = parseStoreUrl(store);
  const advertise = env.PLUMB_CLUSTER_ADVERTISE || file?.['cluster-advertise'];
  return {
    store,
    endpoints,
    prefix,
    // Docker's form carries the daemon's port (eth1:2375); the overlay needs only the address.
    advertise: advertise?.replace(/:\d+$/, ''),
    nodeName: env.PLUMB_NODE_NAME || file?.['node-name'] || hostname(),
    file: file ? where.path : undefined,
  };
}

/** What to tell someone who asked for an overlay network on a host without a cluster store. */
export const NO_CLUSTER_STORE_MESSAGE =
  'overlay networks need a cluster store: start plumb with --cluster-store etcd://HOST:2379 --cluster-advertise IP|IFACE ' +
  `(or set PLUMB_CLUSTER_STORE and PLUMB_CLUSTER_ADVERTISE, or "cluster-store" and "cluster-advertise" in ${DEFAULT_CONFIG_FILE})`;

/** The configuration, or a clear error saying what to configure. */
export function requireClusterConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const cfg = clusterConfig(env);
  if (!cfg) throw new ClusterConfigError(NO_CLUSTER_STORE_MESSAGE);
  return cfg;
}

/**
 * Whether containers on the default bridge may talk to each other, like
 * dockerd's --icc (default true): PLUMB_ICC=true|false, else "icc" in the
 * config file. It takes effect when the default bridge is made (first use, or
 * after `system reset`). With false, legacy links open exactly the target's
 * exposed ports, as in Docker.
 */
export function defaultBridgeIcc(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.PLUMB_ICC;
  if (value !== undefined && value !== '') {
    if (value === 'true' || value === 'false') return value === 'true';
    throw new ClusterConfigError(`invalid PLUMB_ICC "${value}": use true or false`);
  }
  const icc = readConfigFile(configFilePath(env))?.icc;
  if (icc === undefined) return true;
  if (typeof icc !== 'boolean') throw new ClusterConfigError(`"icc" in the plumb config file must be true or false`);
  return icc;
}

/** The default bridge's kernel name when nothing else is configured: plumb's own, so a real Docker's docker0 is never touched. */
export const DEFAULT_BRIDGE_NAME = 'plumb0';

/**
 * The kernel name of the default bridge, like dockerd's --bridge:
 * PLUMB_BRIDGE_NAME, else "bridge-name" in the config file, else plumb0. A
 * course that shows docker0 can say so once. It takes effect when the default
 * bridge is made (first use, or after `system reset`); a link of that name
 * that plumb did not make is never taken over.
 */
export function defaultBridgeName(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PLUMB_BRIDGE_NAME;
  const name = fromEnv !== undefined && fromEnv !== '' ? fromEnv : readConfigFile(configFilePath(env))?.['bridge-name'];
  if (name === undefined) return DEFAULT_BRIDGE_NAME;
  const where = fromEnv ? 'PLUMB_BRIDGE_NAME' : '"bridge-name" in the plumb config file';
  // The kernel's rule for interface names (dev_valid_name): 1-15 bytes, not . or .., no '/', ':' or white space.
  if (typeof name !== 'string' || !/^[^\s/:]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new ClusterConfigError(`invalid ${where} ${JSON.stringify(name)}: use an interface name of 1 to 15 characters without '/', ':' or spaces`);
  }
  return name;
}
