// The conformance suite's clients: one interface over every transport, each driven by a real
// client library (vscode-jsonrpc on framed streams, ws on WebSocket).
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { PassThrough, type Writable } from 'node:stream';
import { CancellationTokenSource, createMessageConnection, type MessageConnection, ProgressType, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js';
import type { Encoding } from '../../protocol/index.js';
import { cliPath, type TestEnv, WsClient, wsEndpoint } from '../helpers/index.js';

export interface RpcFailure {
  code: number;
  message: string;
  data?: unknown;
}

export interface SuiteClient {
  name: string;
  request(method: string, params?: unknown, options?: { cancelAfterMs?: number }): Promise<any>;
  notify(method: string, params?: unknown): void;
  notifications: Array<{ method: string; params: any }>;
  /** Collects `$/progress` values for a token (register before the request). */
  progress(token: string): unknown[];
  /** Writes raw bytes (framed transports) or a raw frame (WebSocket). */
  raw(data: Buffer | string): void;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  close(): void;
}

export type TransportName = 'stdio-relay' | 'stdio-standalone' | 'unix' | 'websocket-json' | 'websocket-msgpack';
export const transports: TransportName[] = ['stdio-relay', 'stdio-standalone', 'unix', 'websocket-json', 'websocket-msgpack'];

function fromMessageConnection(name: string, connection: MessageConnection, writable: Writable, closed: Promise<void>, dispose: () => void): SuiteClient {
  const notifications: SuiteClient['notifications'] = [];
  connection.onNotification((method: string, params: unknown) => {
    notifications.push({ method, params });
  });
  connection.onError(() => undefined);
  connection.listen();
  return {
    name,
    notifications,
    request: async (method, params, options = {}) => {
      const source = new CancellationTokenSource();
      if (options.cancelAfterMs !== undefined) setTimeout(() => source.cancel(), options.cancelAfterMs);
      try {
        // vscode-jsonrpc wraps a null param into [null]; a client with nothing to send omits it.
        return params === undefined || params === null
          ? await connection.sendRequest(method, source.token)
          : await connection.sendRequest(method, params, source.token);
      } catch (error) {
        if (error instanceof ResponseError) throw { code: error.code, message: error.message, data: error.data } satisfies RpcFailure;
        throw error;
      }
    },
    notify: (method, params) => {
      (params === undefined ? connection.sendNotification(method) : connection.sendNotification(method, params)).catch(() => undefined);
    },
    progress: (token) => {
      const values: unknown[] = [];
      connection.onProgress(new ProgressType<unknown>(), token, (value) => values.push(value));
      return values;
    },
    raw: (data) => void writable.write(data),
    closed,
    close: () => {
      dispose();
      void closed.then(() => connection.dispose());
    },
  };
}

function fromWs(name: string, client: WsClient, encoding: Encoding): SuiteClient {
  const closed = new Promise<void>((resolve) => client.socket.once('close', () => resolve()));
  return {
    name,
    notifications: client.notifications as SuiteClient['notifications'],
    request: async (method, params, options = {}) => {
      const id = Math.floor(Math.random() * 1e9);
      if (options.cancelAfterMs !== undefined) setTimeout(() => client.notify('$/cancelRequest', { id }), options.cancelAfterMs);
      const response = await client.call(method, params, id);
      if (response.error) throw response.error as RpcFailure;
      return response.result;
    },
    notify: (method, params) => client.notify(method, params),
    progress: (token) => {
      const values: unknown[] = [];
      const original = client.notifications.push.bind(client.notifications);
      client.notifications.push = (...items) => {
        for (const item of items) if (item.method === '$/progress' && (item.params as { token: string }).token === token) values.push((item.params as { value: unknown }).value);
        return original(...items);
      };
      return values;
    },
    raw: (data) => client.socket.send(data, { binary: encoding === 'msgpack' }),
    closed,
    close: () => client.close(),
  };
}

export async function openClient(transport: TransportName, testEnv: TestEnv): Promise<SuiteClient> {
  switch (transport) {
    case 'unix': {
      const socket: Socket = await new Promise((resolve, reject) => {
        const s = connect(testEnv.paths.socketPath);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      return fromMessageConnection(transport, createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket)), socket, closed, () => socket.destroy());
    }
    case 'stdio-relay':
    case 'stdio-standalone': {
      const args = transport === 'stdio-standalone' ? ['lsp', '--standalone'] : ['lsp'];
      const child: ChildProcess = spawn(process.execPath, [cliPath, ...args], { env: testEnv.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      const closed = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
      // Writes go through a pass-through that outlives stdin, so the client library's late
      // writes (after we hung up) are dropped instead of failing.
      const toChild = new PassThrough();
      toChild.pipe(child.stdin!);
      child.stdin!.on('error', () => undefined);
      const client = fromMessageConnection(
        transport,
        createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(toChild)),
        toChild,
        closed,
        () => {
          toChild.unpipe(child.stdin!);
          toChild.resume();
          child.stdin!.end();
          setTimeout(() => child.kill(), 2000).unref();
        },
      );
      return Object.assign(client, { child, stderr: () => stderr });
    }
    case 'websocket-json':
    case 'websocket-msgpack': {
      const { url, token } = await wsEndpoint(testEnv);
      const encoding: Encoding = transport === 'websocket-json' ? 'json' : 'msgpack';
      return fromWs(transport, await WsClient.connect(url, { token, encoding }), encoding);
    }
  }
}

/** The raw bytes of one frame, as the transport carries it. */
export function rawFrame(transport: TransportName, body: string): Buffer | string {
  return transport.startsWith('websocket') ? (transport === 'websocket-msgpack' ? Buffer.from(body) : body) : Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** A byte-level client: sends raw frames, reads decoded replies in order. For bad-input tests. */
export interface RawClient {
  /** Sends one message body as one frame (JSON text, or MessagePack for websocket-msgpack). */
  sendBody(body: string | Buffer): void;
  sendMessage(message: unknown): void;
  /** Writes bytes straight onto the transport (framed transports), or one raw frame (WebSocket). */
  sendBytes(bytes: Buffer): void;
  /** The next decoded message from the server. */
  next(timeoutMs?: number): Promise<any>;
  closed: Promise<void>;
  close(): void;
}

export async function openRawClient(transport: TransportName, testEnv: TestEnv): Promise<RawClient> {
  const { FrameDecoder, encodeMessage, decodeMessage } = await import('../../protocol/index.js');
  const queue: unknown[] = [];
  const waiters: Array<(value: unknown) => void> = [];
  const push = (message: unknown) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  };
  const next = (timeoutMs = 5000) =>
    new Promise<any>((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      waiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  if (transport.startsWith('websocket')) {
    const encoding: Encoding = transport === 'websocket-json' ? 'json' : 'msgpack';
    const { url, token } = await wsEndpoint(testEnv);
    const client = await WsClient.connect(url, { token, encoding });
    client.socket.on('message', (data: Buffer, isBinary: boolean) => push(decodeMessage(isBinary ? data : data.toString('utf8'), isBinary ? 'msgpack' : 'json')));
    const closed = new Promise<void>((resolve) => client.socket.once('close', () => resolve()));
    return {
      sendBody: (body) => client.socket.send(body, { binary: encoding === 'msgpack' }),
      sendMessage: (message) => client.socket.send(encodeMessage(message, encoding), { binary: encoding === 'msgpack' }),
      sendBytes: (bytes) => client.socket.send(bytes, { binary: encoding === 'msgpack' }),
      next,
      closed,
      close: () => client.close(),
    };
  }
  let input: Writable;
  let output: NodeJS.ReadableStream;
  let dispose: () => void;
  if (transport === 'unix') {
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect(testEnv.paths.socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    input = socket;
    output = socket;
    dispose = () => socket.destroy();
  } else {
    const args = transport === 'stdio-standalone' ? ['lsp', '--standalone'] : ['lsp'];
    const child = spawn(process.execPath, [cliPath, ...args], { env: testEnv.env, stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin.on('error', () => undefined);
    input = child.stdin;
    output = child.stdout;
    dispose = () => {
      child.stdin.end();
      setTimeout(() => child.kill(), 2000).unref();
    };
  }
  const decoder = new FrameDecoder(1 << 30);
  output.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) push(JSON.parse(body.toString('utf8')));
  });
  const closed = new Promise<void>((resolve) => output.once('close', () => resolve()));
  const frame = (body: string | Buffer) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`), bytes]);
  };
  return {
    sendBody: (body) => input.write(frame(body)),
    sendMessage: (message) => input.write(frame(JSON.stringify(message))),
    sendBytes: (bytes) => input.write(bytes),
    next,
    closed,
    close: dispose,
  };
}
