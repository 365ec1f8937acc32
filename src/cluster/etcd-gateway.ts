// etcd's v3 API over its HTTP gateway, for one-shot commands. etcd serves the
// gateway on its client port at /v3/ since 3.4 (Debian's etcd-server is 3.4).
//
// Why not the etcd3 gRPC client everywhere: loading it (grpc-js plus
// protobufjs parsing etcd's .proto files) costs ~170 ms of CPU at every start,
// more than everything else an overlay `plumb run` does. A CLI process makes
// three or four unary calls and exits, so it speaks JSON over one kept-alive
// HTTP connection with Node's own http module instead. Long-lived watchers
// (the host agent, the embedded DNS) use etcd3's watch (etcd-watch.ts).
import { Agent, request } from 'node:http';
import { decodeRange, decodeTxn, encodeRange, encodeTxn, gatewayError, type Kv, type RangeResult, type Txn, type TxnResult } from './kv.js';

/** An answer from etcd that is an error (bad request, etcd unavailable, ...). */
export class GatewayError extends Error {}

export class EtcdGateway implements Kv {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** The endpoint that answered last: tried first next time. */
  private current = 0;

  constructor(
    private readonly endpoints: string[],
    private readonly timeoutMs: number,
  ) {
    if (!endpoints.length) throw new Error('EtcdGateway needs at least one endpoint');
  }

  async range(key: string, opts: { prefix?: boolean } = {}): Promise<RangeResult> {
    return decodeRange((await this.post('/v3/kv/range', encodeRange(key, opts))) as Parameters<typeof decodeRange>[0]);
  }

  async txn(t: Txn): Promise<TxnResult> {
    return decodeTxn((await this.post('/v3/kv/txn', encodeTxn(t))) as Parameters<typeof decodeTxn>[0]);
  }

  close(): void {
    this.agent.destroy();
  }

  /** POSTs to each endpoint in turn until one answers; an answer that is an error is not retried elsewhere. */
  private async post(path: string, body: object): Promise<unknown> {
    const payload = JSON.stringify(body);
    let lastError: Error | undefined;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.current + i) % this.endpoints.length;
      try {
        const answer = await this.once(this.endpoints[index]!, path, payload);
        this.current = index;
        return answer;
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        lastError = err as Error;
      }
    }
    throw lastError!;
  }

  private async once(endpoint: string, path: string, payload: string): Promise<unknown> {
    try {
      return await this.send(endpoint, path, payload);
    } catch (err) {
      // A kept-alive connection the server closed while idle fails at once on
      // reuse; that says nothing about etcd, so ask again on a fresh one.
      if ((err as { reusedSocket?: boolean }).reusedSocket) return this.send(endpoint, path, payload);
      throw err;
    }
  }

  private send(endpoint: string, path: string, payload: string): Promise<unknown> {
    const [host, port] = splitHostPort(endpoint);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(new GatewayError(`${endpoint} answered ${res.statusCode} with something that is not etcd's JSON (is it etcd's client port?)`));
              return;
            }
            if (res.statusCode !== 200) reject(new GatewayError(gatewayError(parsed) ?? `HTTP ${res.statusCode}`));
            else resolve(parsed);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${endpoint} within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        if (req.reusedSocket && err.code === 'ECONNRESET') err.reusedSocket = true;
        reject(err);
      });
      req.end(payload);
    });
  }
}

function splitHostPort(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i).replace(/^\[|\]$/g, ''), Number(endpoint.slice(i + 1))];
}
