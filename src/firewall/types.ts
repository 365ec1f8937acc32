// Inputs and the rule model of the firewall renderer.

export type Proto = 'tcp' | 'udp';
export type Table = 'filter' | 'nat' | 'raw';

export interface FirewallNetwork {
  id: string;
  name: string;
  /** Kernel name of the bridge (plumb0, br-<12 hex>). */
  bridge: string;
  subnet: string;
  icc: boolean;
  masquerade: boolean;
  internal: boolean;
  /** `com.docker.network.bridge.host_binding_ipv4`: host address for ports published without one. */
  hostBindingIpv4: string;
}

export interface FirewallPort {
  container: string;
  bridge: string;
  proto: Proto;
  /** '' means "the network's host_binding_ipv4" (0.0.0.0 unless set). */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface FirewallLink {
  /** The linking container (`--link to`), Docker's "parent". */
  from: string;
  /** The container linked to, Docker's "child"; its exposed ports are opened. */
  to: string;
  bridge: string;
  fromIp: string;
  toIp: string;
  ports: Array<{ proto: Proto; port: number }>;
}

/**
 * Desired state. `networks` is in creation order (oldest first); like Docker,
 * the renderer lists the newest network's rules first because dockerd
 * inserts them at the top of each chain.
 */
export interface FirewallState {
  networks: FirewallNetwork[];
  ports: FirewallPort[];
  links: FirewallLink[];
}

/** Who a rule belongs to, for `network inspect` / `inspect` and the comment. */
export interface OwnerRef {
  kind: 'network' | 'container' | 'base';
  name: string;
}

export interface Rule {
  table: Table;
  chain: string;
  /** Match and target arguments, in iptables-save's canonical order, without the comment. */
  spec: string[];
  /** One sentence a learner reads under `--explain`. */
  why: string;
  /** Comment text after "plumb: " (e.g. "network mynet", "web 8080->80/tcp"). */
  owner: string;
  /** Every network/container the rule serves (a shared rule may serve several). */
  refs: OwnerRef[];
}
