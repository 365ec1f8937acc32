// The resolver's sockets inside sandboxes it cannot be reached from otherwise
// (sandbox-path.ts, 'inside'): a UDP and a TCP socket on 127.0.0.11:53 in each
// such sandbox's network namespace, opened in a namespace window
// (kernel/sandbox-sockets.ts) and adopted by dgram / net. A query that comes
// in on them is asked by that sandbox's container.
//
// Why sockets in the sandbox and not a relay process there: Docker's embedded
// DNS does the same (its resolver binds inside each sandbox), it needs no extra
// process per container, and the one resolver keeps every answer's scoping. A
// host-side leg on the macvlan network would change the topology.
//
// A socket keeps its namespace alive: a sandbox's sockets must be closed when
// it goes (stop/rm ask for it through the control socket; reconcile() closes
// any whose container no longer runs or whose namespace file is gone).
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { closeDescriptor, openListenersIn } from '../kernel/sandbox-sockets.js';
import { nsInode } from '../kernel/proc.js';
import { failureKey, planListeners, type HeldSandbox } from './listener-plan.js';
import { INSIDE_PORT, RESOLVER_IP } from './sandbox-path.js';
import { serveTcp, serveUdp, type EmbeddedDns } from './server.js';

/** A sandbox's sockets; `pending`: opened on a command's request before its store commit (listener-plan.ts). */
interface Held extends HeldSandbox {
  udp: Socket;
  tcp: Server;
}

export class SandboxListeners {
  private readonly held = new Map<string, Held>();
  /** Sandboxes whose sockets could not be opened, by failureKey(): not retried until that changes. */
  private readonly failed = new Set<string>();
  /**
   * Sandboxes a command asked to let go of (stop, rm, a bridge joined), by id,
   * with their namespace's inode: the store still lists them until that command
   * commits, and reconcile() must not open their sockets again meanwhile.
   */
  private readonly letGo = new Map<string, number | undefined>();

  constructor(
    private readonly dns: EmbeddedDns,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens the sockets in `netns` for container `id` (again, if it held some in another namespace). Throws when they cannot be opened. */
  hold(id: string, netns: string, pending: boolean): void {
    const had = this.held.get(id);
    if (had && had.netns === netns && had.nsInode === nsInode(netns)) {
      had.pending = had.pending && pending;
      return;
    }
    this.letGo.delete(id);
    if (had) this.release(id);
    const fds = openListenersIn(netns, RESOLVER_IP, INSIDE_PORT);
    let udp: Socket | undefined;
    try {
      udp = createSocket('udp4');
      udp.on('error', (e) => this.log(`udp in ${netns}: ${e.message}`));
      udp.bind({ fd: fds.udp });
      serveUdp(udp, (msg) => this.dns.answer(msg, { container: id }, false));
    } catch (err) {
      closeDescriptor(fds.udp);
      closeDescriptor(fds.tcp);
      throw err;
    }
    const tcp = createServer((conn) => serveTcp(conn, (m) => this.dns.answer(m, { container: id }, true)));
    tcp.on('error', (e) => this.log(`tcp in ${netns}: ${e.message}`));
    tcp.listen({ fd: fds.tcp });
    this.held.set(id, { netns, nsInode: fds.nsInode, udp, tcp, pending });
    this.log(`listening on ${RESOLVER_IP}:${INSIDE_PORT} inside ${netns} for ${id.slice(0, 12)}`);
  }

  /**
   * Closes the sockets of container `id`, if it holds any; its namespace can
   * then go. `asked`: a command's request, remembered until the store agrees.
   */
  release(id: string, asked = false): boolean {
    const h = this.held.get(id);
    if (asked) this.letGo.set(id, h?.nsInode);
    if (!h) return false;
    this.held.delete(id);
    h.udp.close();
    h.tcp.close();
    this.log(`closed ${RESOLVER_IP}:${INSIDE_PORT} inside ${h.netns} for ${id.slice(0, 12)}`);
    return true;
  }

  /** Makes the sockets match `wanted` (container id -> namespace file, from the store): see listener-plan.ts. */
  reconcile(wanted: ReadonlyMap<string, string>): void {
    for (const key of this.failed) if (!wanted.has(key.split(' ')[0]!)) this.failed.delete(key);
    for (const id of this.letGo.keys()) if (!wanted.has(id)) this.letGo.delete(id);
    const plan = planListeners(this.held, wanted, nsInode, this.letGo, this.failed);
    for (const id of plan.close) this.release(id);
    for (const id of plan.settle) this.held.get(id)!.pending = false;
    for (const [id, netns] of plan.open) {
      try {
        this.hold(id, netns, false);
      } catch (err) {
        this.failed.add(failureKey(id, netns, nsInode(netns)));
        this.log(`cannot listen inside ${netns} for ${id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }
  }

  close(): void {
    for (const id of [...this.held.keys()]) this.release(id);
  }
}
