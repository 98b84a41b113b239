// A local HTTP server that plays a model API in tests: each route answers with a scripted reply
// (status, headers, and body chunks written with small pauses, as a streaming server does), and
// every request is recorded so tests can check the exact wire format caret sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Body pieces, written one by one. */
  chunks?: string[];
  /** Pause between chunks, ms. */
  gapMs?: number;
  /** Close the socket abruptly after the chunks (a truncated transfer). */
  destroy?: boolean;
  /** Never finish: keep the response open (for abort and timeout tests). */
  hang?: boolean;
}

type Handler = (request: RecordedRequest, index: number) => Reply;

export class ApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Responses that were cut short because the client went away. */
  clientAborts = 0;
  private readonly routes = new Map<string, { handler: Handler; calls: number }>();
  private server!: Server;
  url = '';

  static async start(): Promise<ApiServer> {
    const api = new ApiServer();
    api.server = createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  /** Scripts a route (`POST /v1/chat/completions`); a handler gets the call number since this call. */
  on(route: string, reply: Reply | Handler): this {
    this.routes.set(route, { handler: typeof reply === 'function' ? reply : () => reply, calls: 0 });
    return this;
  }

  last(path: string): RecordedRequest {
    const found = [...this.requests].reverse().find((request) => request.path === path);
    if (!found) throw new Error(`no request to ${path}; got ${this.requests.map((r) => r.path).join(', ')}`);
    return found;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // keep raw text
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
    this.requests.push(recorded);
    const route = this.routes.get(`${recorded.method} ${path}`);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${recorded.method} ${path}` }));
      return;
    }
    const reply = route.handler(recorded, route.calls++);
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        this.clientAborts++;
      }
    });
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.flushHeaders();
    for (const chunk of reply.chunks ?? []) {
      if (closed) return;
      res.write(chunk);
      if (reply.gapMs) await sleep(reply.gapMs);
    }
    if (reply.hang) return;
    if (reply.destroy) {
      await sleep(30); // let the written chunks reach the client first
      res.socket?.destroy();
      return;
    }
    res.end();
  }
}

/** SSE framing of JSON payloads (`data: ...\n\n`), optionally with event names. */
export function sse(payloads: Array<unknown | { event: string; data: unknown }>, done = false): string[] {
  const chunks = payloads.map((payload) => {
    if (payload && typeof payload === 'object' && 'event' in payload && 'data' in payload) {
      const { event, data } = payload as { event: string; data: unknown };
      return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    }
    return `data: ${JSON.stringify(payload)}\n\n`;
  });
  if (done) chunks.push('data: [DONE]\n\n');
  return chunks;
}

export function ndjson(values: unknown[]): string[] {
  return values.map((value) => `${JSON.stringify(value)}\n`);
}

export const sseHeaders = { 'content-type': 'text/event-stream' };
export const ndjsonHeaders = { 'content-type': 'application/x-ndjson' };
