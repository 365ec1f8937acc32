// The client side of attach: the caller's terminal (or pipes) connected to a
// container's monitor. Used by `plumb attach` and by a foreground `plumb run`.
import type { Socket } from 'node:net';
import { openAttach, resizeTerminal } from '../engine/containers/attach.js';
import { DetachMatcher } from './parse/detach-keys.js';

export interface AttachOptions {
  /** The container has a terminal: raw bytes both ways, the caller's terminal in raw mode. */
  tty: boolean;
  /** Forward plumb's stdin. */
  stdin: boolean;
  /** Close the container's stdin when ours ends (run -i, not attach). */
  stdinOnce?: boolean;
  detachKeys: number[];
  /** Without a terminal, SIGINT/SIGTERM to plumb go to the container (Docker's sig-proxy). */
  onSignal?: (signal: NodeJS.Signals) => void;
}

export type AttachEnd = 'ended' | 'detached';

export class AttachSession {
  readonly done: Promise<AttachEnd>;
  private finish!: (how: AttachEnd) => void;
  private cleanups: (() => void)[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly sock: string,
    private readonly opts: AttachOptions,
  ) {
    this.done = new Promise((resolve) => {
      this.finish = (how) => {
        for (const c of this.cleanups.splice(0)) c();
        resolve(how);
      };
    });
  }

  static async open(sock: string, opts: AttachOptions): Promise<AttachSession> {
    const s = new AttachSession(await openAttach(sock, opts), sock, opts);
    s.pumpOutput();
    return s;
  }

  /** Starts forwarding input (after the container is known to run). */
  start(): void {
    const { opts, socket } = this;
    const out = process.stdout;
    if (opts.tty && out.isTTY) {
      void resizeTerminal(this.sock, out.rows, out.columns);
      const onResize = () => void resizeTerminal(this.sock, out.rows, out.columns);
      out.on('resize', onResize);
      this.cleanups.push(() => out.off('resize', onResize));
    }
    if (!opts.tty && opts.onSignal) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        const h = () => opts.onSignal!(sig);
        process.on(sig, h);
        this.cleanups.push(() => process.off(sig, h));
      }
    }
    if (!opts.stdin) return;
    const input = process.stdin;
    if (opts.tty && input.isTTY) {
      input.setRawMode(true);
      this.cleanups.push(() => input.setRawMode(false));
    }
    const matcher = new DetachMatcher(opts.detachKeys);
    const onData = (chunk: Buffer) => {
      // Docker looks for the detach keys only when the container has a terminal.
      const { forward, detach } = opts.tty ? matcher.push(chunk) : { forward: chunk, detach: false };
      if (forward.length) socket.write(forward);
      if (detach) {
        socket.destroy();
        this.finish('detached');
      }
    };
    const onEnd = () => {
      if (!socket.destroyed) socket.end();
    };
    input.on('data', onData);
    input.on('end', onEnd);
    this.cleanups.push(() => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
      input.unref?.();
    });
    input.resume();
  }

  private pumpOutput(): void {
    const { socket, opts } = this;
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (b: Buffer) => {
      if (opts.tty) {
        process.stdout.write(b);
        return;
      }
      // Docker's multiplexed frames: [stream, 0, 0, 0, len(4, big-endian)] + payload.
      pending = pending.length ? Buffer.concat([pending, b]) : b;
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        const payload = pending.subarray(8, 8 + len);
        (pending[0] === 2 ? process.stderr : process.stdout).write(payload);
        pending = pending.subarray(8 + len);
      }
    });
    socket.on('close', () => this.finish('ended'));
    socket.on('error', () => this.finish('ended'));
  }
}
