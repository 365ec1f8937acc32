// A plumb-like writer for the store tests, run as its own process (bundled by
// the test): STATE RUN N PREFIX. Each of its N operations takes the store
// lock, gives a new container the lowest free address of network "net" and
// commits, as `run` does. With PLUMB_CRASH_AFTER_LOCK_US it is killed at
// that moment of its first operation.
import { Store, findContainer } from '../../src/store/store.js';
import { allocateAddress } from '../../src/ipam/allocator.js';
import { containerRecord } from './records.js';

const [state, run, count, prefix] = process.argv.slice(2);
const store = new Store({ state: state!, run: run!, netnsNames: `${run}/names` });
for (let i = 0; i < Number(count); i++) {
  await store.locked(async (data, commit) => {
    const net = Object.values(data.networks).find((n) => n.name === 'net')!;
    const name = `${prefix}${i}`;
    if (findContainer(data, name)) throw new Error(`${name} exists`);
    const ip = allocateAddress({ subnet: net.ipam!.subnet, gateway: net.ipam!.gateway, allocated: Object.keys(net.allocated) });
    const id = (prefix!.charCodeAt(0).toString(16) + i.toString(16).padStart(8, '0')).padEnd(64, 'c');
    net.allocated[ip] = `ep-${id}`;
    data.containers[id] = containerRecord(name, {
      id,
      image: 'alpine',
      networkMode: 'net',
      networks: [{ networkId: net.id, aliases: [] }],
      endpoints: { [net.id]: { id: `ep-${id}`, networkId: net.id, ifname: 'eth0', ip, prefix: 16, mac: '', aliases: [] } },
      ports: i % 3 === 0 ? [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 10000 + i }] : [],
    });
    commit();
  });
}
