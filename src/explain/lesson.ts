// Short `why` lines for ops, worded for people learning networking. Each one
// says what the step does in the picture a learner already has (cables,
// switches, routers), and uses the real names so the commands below it read
// naturally. Callers pass what they know; nothing here looks anything up.

/** netns.add for a container's sandbox. */
export function whySandbox(sandbox: string): string {
  return `sandbox ${sandbox}: a private network stack (interfaces, routes, firewall) for the container`;
}

/** uts.add: the sandbox's own hostname. */
export function whyHostname(sandbox: string, hostname: string): string {
  return `a UTS namespace gives ${sandbox} its own hostname (${hostname}) without changing the host's`;
}

/** netns.register: make a namespace visible to `ip netns`. */
export function whyRegister(alias: string): string {
  return `show the sandbox to ip netns as ${alias}, so \`ip -n ${alias} addr\` works`;
}

/** link.add bridge for a network. */
export function whyBridge(network: string, bridge: string): string {
  return `network ${network} is a virtual switch: the bridge ${bridge} (like docker0)`;
}

/** addr.add of the gateway address on a bridge. */
export function whyGateway(bridge: string, gateway: string, subnet: string): string {
  return `${gateway} on ${bridge} makes the host the router for ${subnet}: containers send off-subnet traffic here`;
}

/** link.add veth with its peer inside the sandbox. */
export function whyVethPair(host: string, peer: string, sandbox: string): string {
  return `a veth pair is a virtual cable: ${host} stays on the host, its twin becomes ${peer} inside ${sandbox}`;
}

/** link.set master: plug the host end into the bridge. */
export function whyPlugIn(hostEnd: string, network: string, bridge: string): string {
  return `plug ${hostEnd} into ${network}'s bridge ${bridge}, like a cable into a switch port`;
}

/** link.set address in the sandbox. */
export function whyMac(ip: string, mac: string): string {
  return `the MAC ${mac} is 02:42 followed by the four bytes of ${ip}, so it is unique on the bridge`;
}

/** addr.add in the sandbox. */
export function whyAddress(ip: string, subnet: string, reason = 'the lowest free address'): string {
  return `${ip} is ${reason} of ${subnet}`;
}

/** route.add default in the sandbox. */
export function whyDefaultRoute(gateway: string): string {
  return `anything not on the local subnet goes to the gateway ${gateway}`;
}

/** link.set lo up in a new namespace. */
export function whyLoopback(sandbox: string): string {
  return `a new namespace starts with lo down; bring it up so 127.0.0.1 works in ${sandbox}`;
}

/** sysctl net.ipv4.ip_forward=1. */
export function whyIpForward(): string {
  return 'let the host route packets between interfaces (containers <-> outside world)';
}

/** brport.set hairpin on. */
export function whyHairpin(port: string): string {
  return `hairpin mode lets a packet leave through the port it came in on (${port}), so a container can reach itself via a published port`;
}

/** iptables: MASQUERADE for a subnet. */
export function whyMasquerade(subnet: string, bridge: string): string {
  return `masquerade: packets from ${subnet} leaving through anything but ${bridge} take the host's address, so replies find their way back`;
}

/** iptables: DNAT + ACCEPT for a published port. */
export function whyPublish(hostPort: number | string, containerIp: string, containerPort: number | string, proto = 'tcp'): string {
  return `publish ${hostPort} -> ${containerPort}/${proto}: rewrite the destination of packets for the host's port ${hostPort} to ${containerIp}:${containerPort}, and let them through`;
}

/** iptables: isolation between networks. */
export function whyIsolation(bridge: string): string {
  return `isolation: drop packets between ${bridge} and other plumb bridges; containers meet only on networks they share`;
}

/** link.add vxlan for an overlay. */
export function whyVxlan(vni: number, port: number): string {
  return `vxlan wraps Ethernet frames in UDP (port ${port}, network id ${vni}) so one virtual switch can span hosts`;
}

/** neigh.replace for a remote overlay endpoint. */
export function whyNeigh(ip: string, mac: string): string {
  return `answer ARP for ${ip} locally: its MAC is ${mac}, known from the cluster store`;
}

/** fdb.append on a vxlan device. */
export function whyFdb(mac: string, vtep: string): string {
  return `frames for ${mac} go through the tunnel to host ${vtep}`;
}

/** link.del / netns.del on teardown. */
export function whyRemove(what: string): string {
  return `remove ${what}; the kernel deletes the attached cables and routes with it`;
}
