import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { flattenLogsJson } from './json';
import { decodeLogsProto } from './proto';
import type { FlatRecord } from './records';

export interface ReceivedRequest {
  path: string;
  contentType: string;
  headers: IncomingMessage['headers'];
  /** The body as sent (decompressed). */
  raw: Buffer;
}

export interface ReceiverOptions {
  port?: number;
  host?: string;
  /** Decide the HTTP status per request (default 200). Records of a non-2xx request are not kept. */
  respond?: (req: ReceivedRequest) => number;
  onRecords?: (records: FlatRecord[], req: ReceivedRequest) => void;
}

/**
 * A local OTLP/HTTP logs receiver (JSON and protobuf, gzip or not). Used by the demo as a stand-in
 * backend and by the tests to see exactly what left the process.
 */
export class OtlpReceiver {
  readonly records: FlatRecord[] = [];
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  port = 0;

  constructor(private readonly opts: ReceiverOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every byte received so far, decoded bodies concatenated (to check a secret appears nowhere). */
  allBytes(): Buffer {
    return Buffer.concat(this.requests.map((r) => r.raw));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  byEvent(name: string): FlatRecord[] {
    return this.records.filter((r) => r.eventName === name);
  }

  /** Resolve when pred(records) holds; reject after timeoutMs with what was seen. */
  waitFor(pred: (records: FlatRecord[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<FlatRecord[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (pred(this.records)) {
          clearTimeout(timer);
          resolve(this.records);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = [...new Set(this.records.map((r) => r.eventName))].join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.records.length} records seen (${seen})`));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const rr: ReceivedRequest = { path: req.url ?? '/', contentType: String(req.headers['content-type'] ?? ''), headers: req.headers, raw };
      const status = this.opts.respond?.(rr) ?? 200;
      if (status < 200 || status >= 300) {
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      this.requests.push(rr);
      if (rr.path.startsWith('/v1/logs')) {
        let recs: FlatRecord[] = [];
        try {
          recs = rr.contentType.includes('json') ? flattenLogsJson(JSON.parse(raw.toString('utf8'))) : decodeLogsProto(raw);
        } catch {
          res.writeHead(400).end();
          return;
        }
        this.records.push(...recs);
        this.opts.onRecords?.(recs, rr);
        for (const w of [...this.waiters]) w();
      }
      const json = rr.contentType.includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : Buffer.alloc(0));
    });
  }
}
