// The connection `attach` (and a foreground `run`) makes to a container's
// monitor, for the CLI, which does not reach into kernel/ itself.
import type { Socket } from 'node:net';
import { connectMonitor, resizeMonitor } from '../../kernel/monitor.js';

/** Header `attach` (a terminal: raw bytes) or `attach mux` (framed per stream), ` once` to close stdin at our end. */
export function openAttach(sock: string, opts: { tty: boolean; stdinOnce?: boolean }): Promise<Socket> {
  return connectMonitor(sock, `attach${opts.tty ? '' : ' mux'}${opts.stdinOnce ? ' once' : ''}`);
}

export function resizeTerminal(sock: string, rows: number, cols: number): Promise<void> {
  return resizeMonitor(sock, rows, cols);
}
