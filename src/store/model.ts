// What plumb believes should exist. The kernel is the truth for what does exist;
// `plumb system check` compares the two.

export type DriverName = 'bridge' | 'host' | 'null' | 'macvlan' | 'overlay';

export interface IpamRecord {
  subnet: string;
  gateway: string;
  ipRange?: string;
  aux: Record<string, string>;
  /** Whether the user gave the subnet / gateway (inspect shows only what Docker would). */
  userSubnet: boolean;
  userGateway: boolean;
}

/** What every network has, whatever its driver. */
export interface NetworkCommon {
  id: string;
  name: string;
  scope: 'local' | 'global';
  created: string;
  internal: boolean;
  attachable: boolean;
  builtin: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam?: IpamRecord;
  /** ip -> endpoint id, for every address handed out on this network. */
  allocated: Record<string, string>;
}

/**
 * What a driver's `configure` makes of a request's `-o` options: the part of
 * the record only that driver reads. Field names are the record's own, flat,
 * so stores written before the record was split by driver read back unchanged.
 */
export interface BridgeSettings {
  driver: 'bridge';
  /** Kernel name of the bridge. */
  bridge: string;
  /** Absent: the driver's default (DriverTraits.defaultMtu). */
  mtu?: number;
  icc: boolean;
  masquerade: boolean;
  hostBindingIpv4?: string;
}

export interface MacvlanSettings {
  driver: 'macvlan';
  /** The host interface children hang off (never created or removed by plumb). */
  parent: string;
  macvlanMode?: 'bridge' | 'vepa' | 'private' | 'passthru';
  mtu?: number;
}

export interface OverlaySettings {
  driver: 'overlay';
  mtu: number;
}

export type NetworkSettings = BridgeSettings | MacvlanSettings | OverlaySettings;

export type BridgeNetwork = NetworkCommon & BridgeSettings;
export type MacvlanNetwork = NetworkCommon & MacvlanSettings;
export type OverlayNetwork = NetworkCommon &
  OverlaySettings & {
    /** VXLAN network identifier (handed out by the cluster store). */
    vni: number;
    /** This host's namespace of the network (br0 + vxlan0), while it has containers on it. */
    overlaySandbox?: { netns: string; alias: string; aliasDir: string };
  };
/** The built-in `host` and `none` networks: nothing of their own. */
export type HostNetwork = NetworkCommon & { driver: 'host' };
export type NullNetwork = NetworkCommon & { driver: 'null' };

/** A network as the store keeps it: the common fields and its driver's own, keyed by `driver`. */
export type NetworkRecord = BridgeNetwork | MacvlanNetwork | OverlayNetwork | HostNetwork | NullNetwork;

/** Each driver's variant of the record, by driver name. */
export type NetworkByDriver = { [D in DriverName]: Extract<NetworkRecord, { driver: D }> };

export interface PortBinding {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  /** Interface name inside the sandbox: eth0, eth1, ... */
  ifname: string;
  /** Host end of the veth (bridge driver). */
  hostVeth?: string;
  /** Namespace file holding the interface (macvlan: there is no host end to delete it by). */
  netnsPath?: string;
  ip: string;
  prefix: number;
  mac: string;
  gateway?: string;
  aliases: string[];
  /** --ip / --ip given by the user: kept across restarts when free. */
  staticIp?: string;
}

export type ContainerState = 'created' | 'running' | 'exited';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  command: string[];
  created: string;
  hostname: string;
  state: ContainerState;
  /** Process started for COMMAND (detached), as PID + start time to detect PID reuse. */
  pid?: number;
  pidStart?: number;
  /** plumb-monitor holding the main process (its terminal, log, attach socket, exit status). */
  monitorPid?: number;
  monitorStart?: number;
  /** cgroup v2 directory holding every process of the container while it runs. */
  cgroup?: string;
  /** -t / -i as given to run or create; kept for start. */
  tty?: boolean;
  openStdin?: boolean;
  /** Root filesystem the processes run in (busybox images); absent: the host's. */
  rootfs?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  autoRemove: boolean;
  /** bridge network name, 'host', 'none' or 'container:<id>'. */
  networkMode: string;
  /** Networks to (re)join on start, in order, with per-network options. */
  networks: Array<{ networkId: string; aliases: string[]; staticIp?: string; mac?: string }>;
  /** Live endpoints (only while running): network id -> endpoint. */
  endpoints: Record<string, EndpointRecord>;
  publish: Array<{ proto: 'tcp' | 'udp'; containerPort: number; hostIp: string; hostPortStart: number; hostPortEnd: number }>;
  /** -P/--publish-all: every exposed port without a -p gets a random host port. */
  publishAll?: boolean;
  /** Host ports actually bound while running. */
  ports: PortBinding[];
  expose: Array<{ proto: 'tcp' | 'udp'; port: number }>;
  links: Array<{ target: string; alias: string }>;
  env: Record<string, string>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  /** Next ethN index: names are never reused inside one sandbox's life. */
  nextIfIndex?: number;
  /** resolv.conf names the embedded DNS (127.0.0.11): set on start on a user network or on connect to one, kept after disconnect (Docker). */
  embeddedDns?: boolean;
  /** Networks whose "<ip>\t<hostname>" line is in /etc/hosts (absent: every endpoint). Docker's disconnect drops them all. */
  hostsLines?: string[];
  /** Namespace files while the sandbox exists. */
  sandbox?: { id: string; netns?: string; uts?: string; joined?: string };
}

export interface SysctlChange {
  key: string;
  /** Value before plumb first changed it, restored by system reset. */
  original: string;
}

export interface StoreData {
  version: 1;
  networks: Record<string, NetworkRecord>;
  containers: Record<string, ContainerRecord>;
  /** Host-namespace sysctls plumb changed, for system reset. */
  sysctls: SysctlChange[];
  /** The FORWARD policy before plumb first set it to DROP, if it did. */
  forwardPolicyBefore?: string;
  /** Last host port handed out per random-port pool (`ip/proto/first-last`): like Docker, a released port is not reused at once. */
  portCursors?: Record<string, number>;
}

export function emptyStore(): StoreData {
  return { version: 1, networks: {}, containers: {}, sysctls: [] };
}
