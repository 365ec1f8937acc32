// Hostile input across every command and option, in one lab. Each case either
// succeeds as Docker would (and then leaves only clean text in the sandbox's
// /etc files, the firewall and interface names), or fails with one line on
// stderr, a non-zero exit, and no change at all: the store and every file
// under PLUMB_ROOT, the links, addresses, routes and iptables-save of the
// host and of every sandbox, and the processes of the lab. The lab state is
// snapshotted around every refused case (see helpers/lab-snapshot.ts).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHostResolvConf } from '../helpers/dns.js';
import { Lab, type RunResult } from '../helpers/lab.js';
import { labSnapshot, snapshotDiff, type LabSnapshot } from '../helpers/lab-snapshot.js';

let lab: Lab;
let restoreResolv: () => void;
/** The MAC of c1 on `un`, which no other container may take there. */
let c1Mac = '';

// Control characters, each an attack on a different text format: a second line, a field
// separator, a carriage return, a terminal escape, DEL, NEL (C1) and the Unicode line separator.
const CONTROLS = ['\t', '\r', '\x1b[31m', '\x7f', '\u0085', '\u2028'];
let rotation = 0;
/** The newline value given, plus two other control characters, turn by turn. */
function hostile(newline: string, plain = 'x1'): string[] {
  const pick = () => CONTROLS[rotation++ % CONTROLS.length]!;
  return [newline, `${plain}${pick()}y`, `${pick()}${plain}`];
}

interface Refused {
  args: string[];
  /** Part of the one error line. */
  error?: RegExp;
  timeoutMs?: number;
}

interface Accepted {
  args: string[];
  /** Assertions on the result, with the lab as the command left it. */
  check?: (r: RunResult) => Promise<void> | void;
  /** Commands that put the lab back as it was. */
  cleanup?: string[][];
}

const refused: Array<[string, Refused]> = [];
const accepted: Array<[string, Accepted]> = [];
const no = (name: string, args: string[], error?: RegExp, timeoutMs?: number) => refused.push([name, { args, error, timeoutMs }]);
const yes = (name: string, c: Accepted) => accepted.push([name, c]);

// ------------------------------------------------- control characters, every command and flag
for (const v of hostile('evil\nnet')) no(`network create NAME ${JSON.stringify(v)}`, ['network', 'create', v]);
for (const v of hostile('bridge\nx')) no(`network create -d ${JSON.stringify(v)}`, ['network', 'create', '-d', v, 'n1']);
for (const v of hostile('10.240.0.0/24\n')) no(`network create --subnet ${JSON.stringify(v)}`, ['network', 'create', '--subnet', v, 'n1']);
for (const v of hostile('10.240.0.1\n')) no(`network create --gateway ${JSON.stringify(v)}`, ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', v, 'n1']);
for (const v of hostile('10.240.0.0/25\n')) no(`network create --ip-range ${JSON.stringify(v)}`, ['network', 'create', '--subnet', '10.240.0.0/24', '--ip-range', v, 'n1']);
for (const v of hostile('a=10.240.0.9\nb')) no(`network create --aux-address ${JSON.stringify(v)}`, ['network', 'create', '--subnet', '10.240.0.0/24', '--aux-address', v, 'n1']);
for (const v of hostile('k=v\nw')) no(`network create --label ${JSON.stringify(v)}`, ['network', 'create', '--label', v, 'n1']);
for (const v of hostile('com.docker.network.bridge.host_binding_ipv4=1.2.3.4\n-A INPUT -j ACCEPT')) no(`network create -o ${JSON.stringify(v)}`, ['network', 'create', '-o', v, 'n1']);
for (const v of hostile('br\nx')) no(`network create -o bridge.name=${JSON.stringify(v)}`, ['network', 'create', '-o', `com.docker.network.bridge.name=${v}`, 'n1']);
for (const v of hostile('driver=bridge\n')) no(`network ls -f ${JSON.stringify(v)}`, ['network', 'ls', '-f', v]);
for (const v of hostile('un\n')) no(`network inspect ${JSON.stringify(v)}`, ['network', 'inspect', v]);
for (const v of hostile('un\n')) no(`network rm ${JSON.stringify(v)}`, ['network', 'rm', v]);
for (const v of hostile('un\n')) no(`network connect NETWORK ${JSON.stringify(v)}`, ['network', 'connect', v, 'c2']);
for (const v of hostile('c2\n')) no(`network connect CONTAINER ${JSON.stringify(v)}`, ['network', 'connect', 'un', v]);
for (const v of hostile('10.231.0.50\n')) no(`network connect --ip ${JSON.stringify(v)}`, ['network', 'connect', '--ip', v, 'un', 'c2']);
for (const v of hostile('db\n10.9.9.9 evil')) no(`network connect --alias ${JSON.stringify(v)}`, ['network', 'connect', '--alias', v, 'un', 'c2']);
for (const v of hostile('un\n')) no(`network disconnect ${JSON.stringify(v)}`, ['network', 'disconnect', v, 'c1']);
for (const v of hostile('box\n')) no(`run IMAGE ${JSON.stringify(v)}`, ['run', '-d', v]);
for (const v of hostile('web\n')) no(`run --name ${JSON.stringify(v)}`, ['run', '-d', '--name', v, 'box']);
for (const v of hostile('un\n')) no(`run --network ${JSON.stringify(v)}`, ['run', '-d', '--network', v, 'box']);
for (const v of hostile('myhost\n6.6.6.6 evil')) no(`run --hostname ${JSON.stringify(v)}`, ['run', '-d', '--hostname', v, 'box']);
for (const v of hostile('8080:80\n')) no(`run -p ${JSON.stringify(v)}`, ['run', '-d', '-p', v, 'box']);
for (const v of hostile('80\n')) no(`run --expose ${JSON.stringify(v)}`, ['run', '-d', '--expose', v, 'box']);
for (const v of hostile('c2:db\n6.6.6.6 evil')) no(`run --link ${JSON.stringify(v)}`, ['run', '-d', '--link', v, 'box']);
for (const v of hostile('10.231.0.60\n')) no(`run --ip ${JSON.stringify(v)}`, ['run', '-d', '--net', 'un', '--ip', v, 'box']);
for (const v of hostile('02:42:0a:e7:00:99\n')) no(`run --mac-address ${JSON.stringify(v)}`, ['run', '-d', '--net', 'un', '--mac-address', v, 'box']);
for (const v of hostile('web\nevil')) no(`run --network-alias ${JSON.stringify(v)}`, ['run', '-d', '--net', 'un', '--network-alias', v, 'box']);
for (const v of hostile('1.2.3.4\nnameserver 6.6.6.6')) no(`run --dns ${JSON.stringify(v)}`, ['run', '-d', '--dns', v, 'box'], /--dns/);
for (const v of hostile('example.com\nnameserver 6.6.6.6')) no(`run --dns-search ${JSON.stringify(v)}`, ['run', '-d', '--dns-search', v, 'box'], /--dns-search/);
for (const v of hostile('ndots:1\nnameserver 6.6.6.6')) no(`run --dns-option ${JSON.stringify(v)}`, ['run', '-d', '--dns-option', v, 'box']);
for (const v of hostile('db:1.2.3.4\n6.6.6.6 evil')) no(`run --add-host ${JSON.stringify(v)}`, ['run', '-d', '--add-host', v, 'box'], /--add-host/);
for (const v of hostile('evil\nhost:1.2.3.4')) no(`create --add-host ${JSON.stringify(v)}`, ['create', '--add-host', v, 'box']);
for (const v of hostile('h\n')) no(`create --hostname ${JSON.stringify(v)}`, ['create', '--hostname', v, 'box']);
for (const v of hostile('c1\n')) no(`exec ${JSON.stringify(v)}`, ['exec', v, 'true']);
for (const v of hostile('c1\n')) no(`port CONTAINER ${JSON.stringify(v)}`, ['port', v]);
for (const v of hostile('80\n')) no(`port c1 ${JSON.stringify(v)}`, ['port', 'c1', v]);
for (const v of hostile('c1\n')) no(`stop ${JSON.stringify(v)}`, ['stop', v]);
for (const v of hostile('1\n')) no(`stop -t ${JSON.stringify(v)}`, ['stop', '-t', v, 'c1']);
for (const v of hostile('c1\n')) no(`restart ${JSON.stringify(v)}`, ['restart', v]);
for (const v of hostile('c3\n')) no(`start ${JSON.stringify(v)}`, ['start', v]);
for (const v of hostile('c1\n')) no(`rm -f ${JSON.stringify(v)}`, ['rm', '-f', v]);
for (const v of hostile('c1\n')) no(`inspect ${JSON.stringify(v)}`, ['inspect', v]);
for (const v of hostile('etcd://127.0.0.1:2379\n')) no(`--cluster-store ${JSON.stringify(v)}`, ['--cluster-store', v, 'network', 'ls']);

// ------------------------------------------------- Docker's own rules
// network names (Docker: predefined names, empty names; plumb: also '/')
no('network create ""', ['network', 'create', ''], /invalid name/);
no('network create "   "', ['network', 'create', '   '], /invalid name/);
no('network create a/b', ['network', 'create', 'a/b'], /'\/'/);
no('network create bridge', ['network', 'create', 'bridge'], /predefined bridge network/);
no('network create none', ['network', 'create', 'none'], /predefined none network/);
no('network create un (exists)', ['network', 'create', 'un'], /already exists/);
no('network create -d nosuch', ['network', 'create', '-d', 'nosuch', 'n1'], /plugin "nosuch" not found/);
no('network create -d overlay without a cluster store', ['network', 'create', '-d', 'overlay', 'n1'], /cluster/);
no('network create -d host', ['network', 'create', '-d', 'host', 'n1'], /only one instance/);
// bridge options
for (const v of ['notanip', '1.2.3.4 -j ACCEPT', '0.0.0.0/0', '1.2.3', '01.2.3.4', '']) {
  no(`host_binding_ipv4=${JSON.stringify(v)}`, ['network', 'create', '-o', `com.docker.network.bridge.host_binding_ipv4=${v}`, 'n1'], /failed to parse com.docker.network.bridge.host_binding_ipv4/);
}
no('host_binding_ipv4=::1 (IPv6)', ['network', 'create', '-o', 'com.docker.network.bridge.host_binding_ipv4=::1', 'n1'], /IPv4 host addresses only/);
no('enable_icc=maybe', ['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', 'n1'], /strconv.ParseBool/);
no('enable_ip_masquerade=yes', ['network', 'create', '-o', 'com.docker.network.bridge.enable_ip_masquerade=yes', 'n1'], /strconv.ParseBool/);
no('mtu=abc', ['network', 'create', '-o', 'com.docker.network.driver.mtu=abc', 'n1'], /strconv.Atoi/);
no('mtu=10', ['network', 'create', '-o', 'com.docker.network.driver.mtu=10', 'n1'], /invalid MTU/);
no('mtu=70000', ['network', 'create', '-o', 'com.docker.network.driver.mtu=70000', 'n1'], /invalid MTU/);
no('bridge.name of 16 characters', ['network', 'create', '-o', 'com.docker.network.bridge.name=abcdefghijklmnop', 'n1'], /bridge name/);
no('bridge.name with a space', ['network', 'create', '-o', 'com.docker.network.bridge.name=br 0', 'n1'], /bridge name/);
no('bridge.name with a slash', ['network', 'create', '-o', 'com.docker.network.bridge.name=br/0', 'n1'], /bridge name/);
no('bridge.name plumb0 (taken)', ['network', 'create', '-o', 'com.docker.network.bridge.name=plumb0', 'n1'], /already used/);
no('unknown com.docker option', ['network', 'create', '-o', 'com.docker.network.bridge.nope=1', 'n1'], /unknown bridge option/);
// subnets
for (const s of ['127.0.0.0/8', '127.1.0.0/16', '224.0.0.0/4', '239.1.0.0/16', '240.0.0.0/4', '255.255.255.0/24', '0.0.0.0/0', '0.0.0.0/8']) {
  no(`--subnet ${s}`, ['network', 'create', '--subnet', s, 'n1'], /is not allowed/);
}
no('--subnet 10.0.0.0/33', ['network', 'create', '--subnet', '10.0.0.0/33', 'n1'], /invalid CIDR/);
no('--subnet notacidr', ['network', 'create', '--subnet', 'notacidr', 'n1'], /invalid CIDR/);
no('two --subnet', ['network', 'create', '--subnet', '10.240.0.0/24', '--subnet', '10.241.0.0/24', 'n1'], /one --subnet/);
no('two --gateway', ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', '10.240.0.1', '--gateway', '10.240.0.2', 'n1'], /one --gateway/);
no('--subnet overlapping un', ['network', 'create', '--subnet', '10.231.0.128/25', 'n1'], /Pool overlaps/);
no('--gateway outside the subnet', ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', '10.241.0.1', 'n1'], /no matching subnet for gateway/);
no('--gateway = network address', ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', '10.240.0.0', 'n1'], /failed to allocate gateway/);
no('--gateway notanip', ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', 'notanip', 'n1'], /invalid gateway address/);
no('--ip-range outside the subnet', ['network', 'create', '--subnet', '10.240.0.0/24', '--ip-range', '10.241.0.0/25', 'n1'], /no matching subnet for range/);
no('--aux-address outside the subnet', ['network', 'create', '--subnet', '10.240.0.0/24', '--aux-address', 'a=10.9.9.9', 'n1'], /no matching subnet for aux-address/);
no('--gateway without --subnet', ['network', 'create', '--gateway', '10.240.0.1', 'n1'], /require the --subnet option/);
no('--label without =', ['network', 'create', '--label', 'nokv', 'n1'], /bad attribute format/);
// macvlan options
no('macvlan without parent', ['network', 'create', '-d', 'macvlan', 'n1'], /parent=IFACE is required/);
no('macvlan parent lo', ['network', 'create', '-d', 'macvlan', '-o', 'parent=lo', 'n1'], /loopback/);
no('macvlan parent missing', ['network', 'create', '-d', 'macvlan', '-o', 'parent=nosuch0', 'n1'], /nosuch0/);
no('macvlan parent with a space', ['network', 'create', '-d', 'macvlan', '-o', 'parent=eth 0', 'n1'], /macvlan parent/);
no('macvlan_mode bogus', ['network', 'create', '-d', 'macvlan', '-o', 'parent=lo', '-o', 'macvlan_mode=bogus', 'n1'], /macvlan mode 'bogus'/);
// network ls / inspect / rm
no('network ls -f bogus=1', ['network', 'ls', '-f', 'bogus=1'], /Invalid filter 'bogus'/);
no('network ls -f dangling=maybe', ['network', 'ls', '-f', 'dangling=maybe'], /dangling/);
no('network ls -f noequals', ['network', 'ls', '-f', 'noequals'], /bad format of filter/);
no('network inspect nosuch', ['network', 'inspect', 'nosuch'], /No such network/);
no('network rm nosuch', ['network', 'rm', 'nosuch'], /No such network/);
no('network rm bridge', ['network', 'rm', 'bridge'], /pre-defined network/);
no('network rm un (in use)', ['network', 'rm', 'un'], /active endpoints/);
// network connect / disconnect
no('connect un c1 (connected)', ['network', 'connect', 'un', 'c1'], /already exists in network/);
no('connect --ip notanip', ['network', 'connect', '--ip', 'notanip', 'un', 'c2'], /invalid IPv4 address/);
no('connect --ip outside the subnet', ['network', 'connect', '--ip', '10.9.9.9', 'un', 'c2'], /does not belong/);
no('connect --alias with a space', ['network', 'connect', '--alias', 'a b', 'un', 'c2'], /spaces are not allowed/);
no('connect --alias ""', ['network', 'connect', '--alias', '', 'un', 'c2'], /cannot be empty/);
no('connect --alias on bridge', ['network', 'connect', '--alias', 'x', 'bridge', 'c1'], /user defined networks/);
no('connect nosuch network', ['network', 'connect', 'nosuch', 'c1'], /network nosuch not found/);
no('connect nosuch container', ['network', 'connect', 'un', 'nosuch'], /No such container/);
no('disconnect a network not joined', ['network', 'disconnect', 'un', 'c2'], /is not connected/);
// run / create
no('run --name a (too short)', ['run', '-d', '--name', 'a', 'box'], /Invalid container name/);
no('run --name -x', ['run', '-d', '--name', '_x', 'box'], /Invalid container name/);
no('run --name "a b"', ['run', '-d', '--name', 'a b', 'box'], /Invalid container name/);
no('run --name c1 (taken)', ['run', '-d', '--name', 'c1', 'box'], /already in use/);
no('run image ""', ['run', '-d', ''], /invalid reference format/);
no('run image with a space', ['run', '-d', 'a b'], /invalid reference format/);
no('run --hostname of 65 bytes', ['run', '-d', '--hostname', 'h'.repeat(65), 'box'], /too long \(maximum 64 bytes\)/);
no('run --hostname of 33 two-byte characters', ['run', '-d', '--hostname', 'é'.repeat(33), 'box'], /too long/);
no('run --hostname with a space', ['run', '-d', '--hostname', 'a b', 'box'], /spaces are not allowed/);
no('run --dns abc', ['run', '-d', '--dns', 'abc', 'box'], /abc is not an ip address/);
no('run --dns "1.2.3.4 6.6.6.6"', ['run', '-d', '--dns', '1.2.3.4 6.6.6.6', 'box'], /is not an ip address/);
no('run --dns 256.1.1.1', ['run', '-d', '--dns', '256.1.1.1', 'box'], /is not an ip address/);
no('run --dns fe80::1%eth0', ['run', '-d', '--dns', 'fe80::1%eth0', 'box'], /is not an ip address/);
no('run --dns-search "exa mple.com"', ['run', '-d', '--dns-search', 'exa mple.com', 'box'], /is not a valid domain/);
no('run --dns-search -bad.com', ['run', '-d', '--dns-search', '-bad.com', 'box'], /is not a valid domain/);
no('run --dns-search 123', ['run', '-d', '--dns-search', '123', 'box'], /is not a valid domain/);
no('run --dns-search a..b', ['run', '-d', '--dns-search', 'a..b', 'box'], /is not a valid domain/);
no('run --dns-search of 300 characters', ['run', '-d', '--dns-search', `${'a'.repeat(60)}.`.repeat(5), 'box'], /is not a valid domain/);
no('run --dns-option ""', ['run', '-d', '--dns-option', '', 'box'], /DNS option/);
no('run --add-host nocolon', ['run', '-d', '--add-host', 'nocolon', 'box'], /bad format for add-host/);
no('run --add-host :1.2.3.4', ['run', '-d', '--add-host', ':1.2.3.4', 'box'], /bad format for add-host/);
no('run --add-host h:notanip', ['run', '-d', '--add-host', 'h:notanip', 'box'], /invalid IP address in add-host/);
no('run --add-host "a b:1.2.3.4"', ['run', '-d', '--add-host', 'a b:1.2.3.4', 'box'], /bad format for add-host/);
no('run --add-host "h:1.2.3.4 5.6.7.8"', ['run', '-d', '--add-host', 'h:1.2.3.4 5.6.7.8', 'box'], /invalid IP address in add-host/);
no('run --link ""', ['run', '-d', '--link', '', 'box'], /empty string specified for links/);
no('run --link a:b:c', ['run', '-d', '--link', 'a:b:c', 'box'], /bad format for links/);
no('run --link nosuch', ['run', '-d', '--link', 'nosuch:db', 'box'], /could not get container for nosuch/);
no('run --link "c2:a b"', ['run', '-d', '--link', 'c2:a b', 'box'], /spaces are not allowed/);
no('run --link to a stopped container', ['run', '-d', '--link', 'c3:db', 'box'], /non running container/);
no('run --mac-address zz:42:ac:11:00:02', ['run', '-d', '--net', 'un', '--mac-address', 'zz:42:ac:11:00:02', 'box'], /is not a valid mac address/);
no('run --mac-address of 5 bytes', ['run', '-d', '--net', 'un', '--mac-address', '02:42:ac:11:00', 'box'], /is not a valid mac address/);
no('run --mac-address multicast', ['run', '-d', '--net', 'un', '--mac-address', '01:00:5e:00:00:01', 'box'], /multicast/);
no('run --mac-address all zeros', ['run', '-d', '--net', 'un', '--mac-address', '00:00:00:00:00:00', 'box'], /all zeros/);
no('run --mac-address of c1 on un', ['run', '-d', '--net', 'un', '--mac-address', 'C1MAC', 'box'], /already in use on network un by container c1/);
no('run --mac-address of c3 (created) on un', ['run', '-d', '--net', 'un', '--mac-address', '02:42:0a:e7:00:63', 'box'], /already in use on network un by container c3/);
no('run --ip notanip', ['run', '-d', '--net', 'un', '--ip', 'notanip', 'box'], /invalid IPv4 address/);
no('run --ip of c1', ['run', '-d', '--net', 'un', '--ip', '10.231.0.2', 'box'], /Address already in use/);
no('run --ip outside the subnet', ['run', '-d', '--net', 'un', '--ip', '10.9.9.9', 'box'], /does not belong/);
no('run --ip on the default bridge', ['run', '-d', '--ip', '172.17.0.50', 'box'], /user configured subnets|user defined networks/);
no('run --network-alias on the default bridge', ['run', '-d', '--network-alias', 'x', 'box'], /user defined networks/);
no('run --network-alias ""', ['run', '-d', '--net', 'un', '--network-alias', '', 'box'], /cannot be empty/);
no('run --network-alias with a space', ['run', '-d', '--net', 'un', '--network-alias', 'a b', 'box'], /spaces are not allowed/);
no('run --network nosuch', ['run', '-d', '--network', 'nosuch', 'box'], /network nosuch not found/);
no('run --network container:', ['run', '-d', '--network', 'container:', 'box'], /invalid container format/);
no('run --network container:nosuch', ['run', '-d', '--network', 'container:nosuch', 'box'], /No such container/);
no('run --network host --mac-address', ['run', '-d', '--network', 'host', '--mac-address', '02:42:ac:11:00:09', 'box'], /mac-address and the network mode/);
no('run --network host --link', ['run', '-d', '--network', 'host', '--link', 'c2', 'box'], /host type networking/);
no('run --network container:c1 --dns', ['run', '-d', '--network', 'container:c1', '--dns', '1.1.1.1', 'box'], /dns and the network mode/);
no('run -p abc', ['run', '-d', '-p', 'abc', 'box'], /Invalid containerPort/);
no('run -p 99999:80', ['run', '-d', '-p', '99999:80', 'box'], /Invalid hostPort/);
no('run -p 80/xyz', ['run', '-d', '-p', '80/xyz', 'box'], /Invalid proto/);
no('run -p 1.2.3.4.5:80:80', ['run', '-d', '-p', '1.2.3.4.5:80:80', 'box'], /Invalid ip address/);
no('run -p 0', ['run', '-d', '-p', '0', 'box'], /Invalid containerPort/);
no('run -p 80/sctp', ['run', '-d', '-p', '80/sctp', 'box'], /sctp/);
no('run --expose abc', ['run', '-d', '--expose', 'abc', 'box'], /invalid range format for --expose/);
no('run --expose 80:80', ['run', '-d', '--expose', '80:80', 'box'], /invalid port format for --expose/);
no('run -P --expose 1-65535 (cannot fit)', ['run', '-d', '-P', '--expose', '1-65535', 'box'], /all ports are allocated/);
no('run -p 8000-8001:80 twice over (range too small)', ['run', '-d', '-p', '8000-8001:80', '-p', '8000-8001:81', '-p', '8000-8001:82', 'box'], /all ports are allocated/);
no('create --hostname of 65 bytes', ['create', '--hostname', 'h'.repeat(65), 'box'], /too long/);
no('create --dns abc', ['create', '--dns', 'abc', 'box'], /is not an ip address/);
// the other commands
no('exec nosuch', ['exec', 'nosuch', 'true'], /No such container/);
no('exec c3 (not running)', ['exec', 'c3', 'true'], /is not running/);
no('port c1 abc', ['port', 'c1', 'abc'], /Invalid port|abc/);
no('port nosuch', ['port', 'nosuch'], /No such container/);
no('stop -t abc', ['stop', '-t', 'abc', 'c1'], /strconv.ParseInt/);
no('restart -t 1.5', ['restart', '-t', '1.5', 'c1'], /strconv.ParseInt/);
no('stop nosuch', ['stop', 'nosuch'], /No such container/);
no('start nosuch', ['start', 'nosuch'], /No such container/);
no('rm nosuch', ['rm', 'nosuch'], /No such container/);
no('rm c1 (running)', ['rm', 'c1'], /cannot remove a running container/);
no('inspect nosuch', ['inspect', 'nosuch'], /No such object/);
no('ps --format with a broken template', ['ps', '--format', '{{.Nope']);

// ------------------------------------------------- what Docker accepts
yes('network create "my net" (blanks inside a name)', {
  args: ['network', 'create', 'my net'],
  check: async () => {
    const table = (await lab.plumbOk(['network', 'ls'])).split('\n').filter(Boolean);
    expect(table.some((l) => / my net +bridge +local$/.test(l))).toBe(true);
  },
  cleanup: [['network', 'rm', 'my net']],
});
yes('network create with quotes in the name, and a container publishing on it (rule comments stay quoted)', {
  args: ['network', 'create', '--subnet', '10.242.0.0/24', `we"ird 'net`],
  check: async () => {
    await lab.plumbOk(['run', '-d', '--name', 'q1', '--net', `we"ird 'net`, '-p', '8089:80', 'box']);
    const rules = lab.iptablesSave();
    expect(rules).toContain('10.242.0.0/24');
    expect(rules).toContain('8089');
  },
  cleanup: [['rm', '-f', 'q1'], ['network', 'rm', `we"ird 'net`]],
});
yes('network create with valid bridge options (Go bool spellings, IPv4 binding, MTU)', {
  args: ['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=False', '-o', 'com.docker.network.bridge.host_binding_ipv4=127.0.0.1', '-o', 'com.docker.network.driver.mtu=1400', '-o', 'com.docker.network.bridge.name=br-ok', '--label', 'k=v w', 'okopts'],
  check: () => {
    const link = lab.ipJson<Array<{ mtu: number }>>(['link', 'show', 'br-ok']);
    expect(link[0]!.mtu).toBe(1400);
  },
  cleanup: [['network', 'rm', 'okopts']],
});
yes('run with every naming option (values trimmed and normalised as Docker does)', {
  args: ['run', '-d', '--name', 's1', '--net', 'un', '-h', 'myhost', '--dns', ' 9.9.9.9 ', '--dns-search', 'example.com.', '--dns-option', 'attempts:2', '--add-host', 'db:10.1.2.3', '--add-host', 'v6:2001:db8::1', '--add-host', 'gw: 10.1.2.4 ', '--network-alias', 'web-1', '--mac-address', '02-42-AA-BB-CC-DD', 'box'],
  check: async () => {
    const dir = await sandboxDirOf('s1');
    expect(readFileSync(join(dir, 'hostname'), 'utf8')).toBe('myhost\n');
    const hosts = readFileSync(join(dir, 'hosts'), 'utf8');
    expect(hosts).toContain('10.1.2.3\tdb\n');
    expect(hosts).toContain('2001:db8::1\tv6\n');
    expect(hosts).toContain('10.1.2.4\tgw\n');
    const resolv = readFileSync(join(dir, 'resolv.conf'), 'utf8');
    expect(resolv).toBe('nameserver 127.0.0.11\nsearch example.com\noptions ndots:0 attempts:2\n');
    expect(await macOf('s1')).toBe('02:42:aa:bb:cc:dd');
    // The embedded DNS answers for the alias with the address, and nothing else.
    const answer = (await lab.plumbOk(['exec', 'c1', 'getent', 'hosts', 'web-1'])).trim();
    expect(answer).toMatch(/^10\.231\.0\.\d+\s+web-1$/);
  },
  cleanup: [['rm', '-f', 's1']],
});
yes('run on the default bridge with --dns, --dns-search ., a link alias and host-gateway', {
  args: ['run', '-d', '--name', 's2', '--dns', '8.8.8.8', '--dns-search', '.', '--link', '/c2:/s2/db', '--add-host', 'hg:host-gateway', 'box'],
  check: async () => {
    const dir = await sandboxDirOf('s2');
    const resolv = readFileSync(join(dir, 'resolv.conf'), 'utf8');
    expect(resolv.split('\n')).toContain('nameserver 8.8.8.8');
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toMatch(/\n172\.17\.0\.\d+\tdb [0-9a-f]{12} c2\n/);
    // host-gateway is the host's address on the default bridge, as in Docker.
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toContain('\n172.17.0.1\thg\n');
  },
  cleanup: [['rm', '-f', 's2']],
});
yes('run --hostname of exactly 64 bytes', { args: ['run', '-d', '--name', 's3', '-h', 'h'.repeat(64), 'box'], cleanup: [['rm', '-f', 's3']] });
yes('run -h "" (the default hostname)', {
  args: ['run', '-d', '--name', 's4', '-h', '', 'box'],
  check: async () => expect(readFileSync(join(await sandboxDirOf('s4'), 'hostname'), 'utf8')).toMatch(/^[0-9a-f]{12}\n$/),
  cleanup: [['rm', '-f', 's4']],
});
yes('run --mac-address in the dotted form', { args: ['run', '-d', '--name', 's5', '--net', 'un', '--mac-address', '0242.0aff.0001', 'box'], cleanup: [['rm', '-f', 's5']] });
yes('run COMMAND with a newline in an argument (process data)', {
  args: ['run', '--rm', '--net', 'none', 'box', 'sh', '-c', 'printf "%s|" "$0" "$1"', 'a\nb', 'c'],
  check: (r) => expect(r.stdout).toBe('a\nb|c|'),
});
yes('exec -e with a newline in the value (process data)', {
  args: ['exec', '-e', 'X=line1\nline2', 'c1', 'sh', '-c', 'printf %s "$X"'],
  check: (r) => expect(r.stdout).toBe('line1\nline2'),
});
yes('ps --format with a newline in the template', { args: ['ps', '-a', '--format', '{{.Names}}\n'], check: (r) => expect(r.stdout).toContain('c1\n') });
yes('network connect --alias, then disconnect', {
  args: ['network', 'connect', '--alias', 'ok-alias', 'un', 'c2'],
  check: async () => {
    const answer = (await lab.plumbOk(['exec', 'c1', 'getent', 'hosts', 'ok-alias'])).trim();
    expect(answer).toMatch(/^10\.231\.0\.\d+\s+ok-alias$/);
  },
  cleanup: [['network', 'disconnect', 'un', 'c2']],
});
yes('run -P --expose 7000-7002 (fits)', { args: ['run', '-d', '--name', 's6', '-P', '--expose', '7000-7002', 'box'], cleanup: [['rm', '-f', 's6']] });
yes('network create --subnet of a private range with --ip-range and --aux-address', {
  args: ['network', 'create', '--subnet', '10.240.0.0/24', '--gateway', '10.240.0.254', '--ip-range', '10.240.0.128/25', '--aux-address', 'a=10.240.0.9', 'okipam'],
  cleanup: [['network', 'rm', 'okipam']],
});

/** eth0's MAC as the kernel has it inside the container's sandbox. */
async function macOf(container: string): Promise<string> {
  const links = JSON.parse(await lab.plumbOk(['exec', container, 'ip', '-j', 'link', 'show', 'eth0'])) as Array<{ address: string }>;
  return links[0]!.address;
}

/** The directory holding a container's hosts, resolv.conf and hostname (the sandbox's, in the run directory). */
async function sandboxDirOf(name: string): Promise<string> {
  const id = (await lab.plumbOk(['inspect', '-f', '{{.Id}}', name])).trim();
  return join(lab.root, 'run', 'containers', id);
}

// ------------------------------------------------- invariants of anything that succeeded
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** Every sandbox file has the line grammar its readers expect; interface names and rules are plain text. */
function assertCleanText(): void {
  const containers = join(lab.root, 'run', 'containers');
  for (const id of existsSync(containers) ? readdirSync(containers) : []) {
    const read = (f: string) => {
      try {
        return readFileSync(join(containers, id, f), 'utf8');
      } catch {
        return undefined;
      }
    };
    const hostname = read('hostname');
    if (hostname !== undefined) expect(hostname, `${id}/hostname`).toMatch(/^[^\s]{1,64}\n$/);
    for (const line of (read('hosts') ?? '').split('\n').filter(Boolean)) {
      expect(line, `${id}/hosts`).toMatch(/^[0-9a-fA-F:.]+\t[^\s]+( [^\s]+)*$/);
    }
    for (const line of (read('resolv.conf') ?? '').split('\n').filter(Boolean)) {
      expect(line, `${id}/resolv.conf`).toMatch(/^(nameserver [0-9a-fA-F:.]+|search( [^\s]+)+|options( [^\s]+)+)$/);
    }
  }
  for (const l of lab.ipJson<Array<{ ifname: string }>>(['link', 'show'])) expect(l.ifname).toMatch(/^[\w.@-]{1,15}$/);
  expect(CONTROL.test(lab.iptablesSave())).toBe(false);
}

/** No string in the store carries a control character, except process data (-e values, COMMAND). */
function assertCleanStore(): void {
  // The host-wide file and every container's record (the store keeps one file per container).
  const records = join(lab.root, 'lib', 'records');
  const store = {
    host: JSON.parse(readFileSync(join(lab.root, 'lib', 'store.json'), 'utf8')) as unknown,
    containers: (existsSync(records) ? readdirSync(records) : []).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(records, f), 'utf8')) as unknown),
  };
  const bad: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (/\.(env|command)(\.|$)/.test(path)) return;
    if (typeof v === 'string' && CONTROL.test(v.replaceAll('\n', '\u0001'))) bad.push(`${path}=${JSON.stringify(v)}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${i}`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(store, 'store');
  expect(bad).toEqual([]);
}

// ------------------------------------------------- the lab
beforeAll(async () => {
  lab = Lab.create({ tag: 'hin', wan: false });
  restoreResolv = useHostResolvConf(lab.root, ['192.0.2.53']);
  await lab.plumbOk(['network', 'ls']);
  await lab.plumbOk(['network', 'create', '--subnet', '10.231.0.0/24', 'un']);
  await lab.plumbOk(['run', '-d', '--name', 'c1', '--net', 'un', 'box']);
  await lab.plumbOk(['run', '-d', '--name', 'c2', 'box']);
  await lab.plumbOk(['create', '--name', 'c3', '--net', 'un', '--mac-address', '02:42:0a:e7:00:63', 'box']);
  c1Mac = await macOf('c1');
  expect(c1Mac).toMatch(/^02:42:0a:e7:00:02$/);
}, 120_000);

afterAll(async () => {
  restoreResolv?.();
  await lab?.teardown();
}, 120_000);

// Refused cases change nothing, so they can run side by side: a few at a time,
// with one snapshot before and after each batch. A batch that changed the lab
// is run again case by case to say which one did.
const BATCH = 6;

interface Outcome {
  r: RunResult;
  diff: string[];
}

const batches = new Map<number, Promise<Outcome[]>>();

function argsOf(c: Refused): string[] {
  return c.args.map((a) => (a === 'C1MAC' ? c1Mac : a));
}

async function runBatch(b: number): Promise<Outcome[]> {
  const cases = refused.slice(b * BATCH, (b + 1) * BATCH).map(([, c]) => c);
  const before = labSnapshot(lab);
  const results = await Promise.all(cases.map((c) => lab.plumb(argsOf(c), { timeoutMs: c.timeoutMs })));
  const diff = snapshotDiff(before, labSnapshot(lab));
  if (!diff.length) return results.map((r) => ({ r, diff: [] }));
  const outcomes: Outcome[] = [];
  for (const c of cases) {
    const one = labSnapshot(lab);
    const r = await lab.plumb(argsOf(c), { timeoutMs: c.timeoutMs });
    outcomes.push({ r, diff: snapshotDiff(one, labSnapshot(lab)) });
  }
  // Not reproduced one by one (the first run already made what a second finds): the whole batch is suspect.
  if (!outcomes.some((o) => o.diff.length)) for (const o of outcomes) o.diff = [`one case of this batch changed the lab: ${diff.join('; ')}`];
  return outcomes;
}

function outcomeOf(index: number): Promise<Outcome> {
  const b = Math.floor(index / BATCH);
  if (!batches.has(b)) batches.set(b, runBatch(b));
  return batches.get(b)!.then((all) => all[index % BATCH]!);
}

describe(`refused input (${refused.length} cases): one line, non-zero exit, no change`, () => {
  it.each(refused.map(([name, c], i) => [name, c, i] as const))('%s', async (_name, c, i) => {
    const { r, diff } = await outcomeOf(i);
    expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^Error: /);
    expect(CONTROL.test(r.stderr), JSON.stringify(r.stderr)).toBe(false);
    if (c.error) expect(lines[0]).toMatch(c.error);
    expect(diff).toEqual([]);
  });
});

describe(`accepted input (${accepted.length} cases): what Docker does, and only clean text`, () => {
  it.each(accepted)('%s', async (_name, c) => {
    const r = await lab.plumb(c.args);
    try {
      expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
      await c.check?.(r);
      assertCleanText();
      assertCleanStore();
    } finally {
      for (const step of c.cleanup ?? []) await lab.plumbOk(step);
    }
  });
});

it('covers at least 150 cases', () => {
  expect(refused.length + accepted.length).toBeGreaterThanOrEqual(150);
});
