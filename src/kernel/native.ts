// Loads plumb's own N-API addon (native/): setns, unshare, mount, umount2, gettid,
// getrandom, flock, a netlink socket (open, request), and a bound inet socket.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeAddon {
  setns(fd: number, nstype: number): void;
  unshare(flags: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount2(target: string, flags: number): void;
  gettid(): number;
  /** `length` random bytes from the kernel (getrandom(2)). */
  getrandom(length: number): Buffer;
  /** flock(2): true when done, false when LOCK_NB was given and another open file holds the lock. */
  flock(fd: number, operation: number): boolean;
  /** A netlink socket in the calling thread's network namespace; replies wait at most timeoutMs. */
  nlOpen(protocol: number, timeoutMs: number): number;
  /** Sends one netlink message, returns the datagrams read up to the end of its answer (error/ack or dump end). */
  nlRequest(fd: number, message: Buffer): Buffer[];
  /** A non-blocking IPv4 socket of the calling thread's namespace, bound to ip:port (listening for tcp); its descriptor. */
  inetSocket(kind: 'udp' | 'tcp', ip: string, port: number): number;
  /** Closes a descriptor Node never adopted. */
  closeFd(fd: number): void;
  /** SIGKILLs this process after `us` microseconds, from a thread of its own (crash tests only). */
  killSelfAfter(us: number): void;
}

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWNET = 0x40000000;

export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 1 << 18;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;

export const LOCK_EX = 2;
export const LOCK_NB = 4;

let addon: NativeAddon | undefined;

/** The addon, loaded on first use so commands that never touch a namespace do not pay for it. */
export function native(): NativeAddon {
  if (!addon) {
    const here = dirname(fileURLToPath(import.meta.url));
    const path = join(here, '..', '..', 'native', 'build', 'Release', 'plumb_native.node');
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (err) {
      throw new Error(`native addon not built (${path}): run scripts/setup or npm run build:native`, { cause: err });
    }
  }
  return addon;
}
