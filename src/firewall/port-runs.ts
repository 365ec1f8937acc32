// Published ports grouped so that a range costs one rule, not one per port.
//
// dockerd writes five rules for every published port (DNAT, filter ACCEPT, two
// isolation RETURNs here, hairpin MASQUERADE), so `-p 20000-20199:20000-20199`
// means 1000 rules, and restoring them is most of the time a `run` spends in
// the firewall. Ports that follow each other become one rule with a port range:
//  * a binding run: bindings of one container, protocol and host address whose
//    host port and container port both go up by one from one binding to the
//    next. Its DNAT matches `--dport first:last`; when host and container
//    ports are equal the target names no port (DNAT keeps the port it was
//    given), otherwise it shifts the range: `IP:80-89/8080` sends 8080 to 80,
//    8081 to 81, ... (NAT range with a base port, kernel >= 4.19).
//  * a container port span: consecutive container ports of one container and
//    protocol, whatever host ports lead to them. The ACCEPT, the RETURNs and
//    the hairpin MASQUERADE match the container port, so they take one rule
//    per span.
// A port that stands alone keeps exactly the rule dockerd writes for it, so
// `-p 80:80 -p 443:443` still reads like Docker's iptables-save.
// `-m multiport` could fold scattered ports too; measured, it saves ~0.05 ms
// a rule (a restore costs a process start plus, for every table it deletes
// from, one RCU grace period of ~12 ms; rules are cheap), and it would hide
// Docker's per-port layout in the common case of a few unrelated ports.

import type { FirewallPort, Proto } from './types.js';

/** A binding with the host address it really uses ('' resolved to host_binding_ipv4). */
export interface EffectiveBinding {
  p: FirewallPort;
  hostIp: string;
}

export interface BindingRun {
  container: string;
  bridge: string;
  containerIp: string;
  proto: Proto;
  hostIp: string;
  hostFirst: number;
  hostLast: number;
  containerFirst: number;
  containerLast: number;
}

export interface ContainerPortSpan {
  container: string;
  bridge: string;
  containerIp: string;
  proto: Proto;
  first: number;
  last: number;
  /** Labels of the binding runs that lead to these ports (the owner comment names them). */
  labels: string[];
}

const range = (first: number, last: number, sep: string): string => (first === last ? `${first}` : `${first}${sep}${last}`);

/** `8080->80/tcp`, `127.0.0.1:20000-20199->20000-20199/tcp`: like docker ps names a binding. */
export function runLabel(r: BindingRun): string {
  const host = r.hostIp === '0.0.0.0' ? '' : `${r.hostIp}:`;
  return `${host}${range(r.hostFirst, r.hostLast, '-')}->${range(r.containerFirst, r.containerLast, '-')}/${r.proto}`;
}

/** The value of --dport/--sport: one port or `first:last`. */
export function portMatch(first: number, last: number): string {
  return range(first, last, ':');
}

/** Ports as a reader says them: `80`, `8080-8089`. */
export function portText(first: number, last: number): string {
  return range(first, last, '-');
}

/**
 * Bindings folded into runs, in the order of each run's first binding. A
 * binding extends the run its group (container, protocol, host address) is
 * building when both of its ports are one above the run's last ones.
 */
export function bindingRuns(bindings: readonly EffectiveBinding[]): BindingRun[] {
  const runs: BindingRun[] = [];
  const open = new Map<string, BindingRun>();
  for (const { p, hostIp } of bindings) {
    const key = `${p.container}\0${p.proto}\0${hostIp}`;
    const run = open.get(key);
    if (run && run.containerIp === p.containerIp && p.hostPort === run.hostLast + 1 && p.containerPort === run.containerLast + 1) {
      run.hostLast = p.hostPort;
      run.containerLast = p.containerPort;
      continue;
    }
    const fresh: BindingRun = {
      container: p.container,
      bridge: p.bridge,
      containerIp: p.containerIp,
      proto: p.proto,
      hostIp,
      hostFirst: p.hostPort,
      hostLast: p.hostPort,
      containerFirst: p.containerPort,
      containerLast: p.containerPort,
    };
    runs.push(fresh);
    open.set(key, fresh);
  }
  return runs;
}

/**
 * The container ports the runs lead to, per container and protocol, as spans
 * of consecutive ports in order of first appearance. A port two bindings
 * share (8080:80 and 8081:80) is in one span, which names both bindings.
 */
export function containerPortSpans(runs: readonly BindingRun[]): ContainerPortSpan[] {
  const spans: ContainerPortSpan[] = [];
  const byPort = new Map<string, ContainerPortSpan>();
  const growing = new Map<string, ContainerPortSpan>();
  for (const r of runs) {
    const group = `${r.container}\0${r.containerIp}\0${r.proto}`;
    const label = runLabel(r);
    for (let port = r.containerFirst; port <= r.containerLast; port++) {
      const key = `${group}\0${port}`;
      let span = byPort.get(key);
      if (!span) {
        const last = growing.get(group);
        if (last && last.last + 1 === port) {
          last.last = port;
          span = last;
        } else {
          span = { container: r.container, bridge: r.bridge, containerIp: r.containerIp, proto: r.proto, first: port, last: port, labels: [] };
          spans.push(span);
          growing.set(group, span);
        }
        byPort.set(key, span);
      }
      if (!span.labels.includes(label)) span.labels.push(label);
    }
  }
  return spans;
}
