// The resolver's control socket (a unix socket in the runtime dir): commands
// ask it to open or close its sockets inside a sandbox, and wait for the
// answer, so a container's first query never races the resolver. One JSON
// request per connection, one JSON answer.
import { existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

export type ControlRequest = { op: 'hold'; id: string; netns: string } | { op: 'release'; id: string };
export interface ControlAnswer {
  ok: boolean;
  error?: string;
}

/** Serves `handle` on the unix socket `path` (replacing a stale one). */
export async function serveControl(path: string, handle: (req: ControlRequest) => ControlAnswer): Promise<Server> {
  if (existsSync(path)) rmSync(path, { force: true });
  const server = createServer((conn) => {
    let buf = '';
    conn.setTimeout(5000, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let answer: ControlAnswer;
      try {
        answer = handle(JSON.parse(buf.slice(0, nl)) as ControlRequest);
      } catch (err) {
        answer = { ok: false, error: (err as Error).message };
      }
      conn.end(JSON.stringify(answer) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Sends one request to the resolver's control socket and waits (at most `timeoutMs`) for its answer. */
export function askControl(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the embedded DNS resolver did not answer on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (d: Buffer) => (buf += d.toString()));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`the embedded DNS resolver's control socket ${path}: ${err.message}`));
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as ControlAnswer);
      } catch {
        reject(new Error(`the embedded DNS resolver gave no answer on ${path}`));
      }
    });
  });
}
