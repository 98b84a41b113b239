// A small JSON-RPC client for the CLI's own commands: over the Unix socket (status, stop, doctor)
// or WebSocket (`caret rpc`, as scripts would). It initializes the session like any client.
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { JSONRPCClient } from 'json-rpc-2.0';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION } from '../../protocol/index.js';

export interface CliClient {
  request(method: string, params?: unknown): Promise<unknown>;
  close(): void;
}

function makeClient(send: (message: object) => void, close: () => void, onMessage: (listener: (message: unknown) => void) => void): CliClient {
  const rpc = new JSONRPCClient((request) => send(request));
  onMessage((message) => {
    const list = Array.isArray(message) ? message : [message];
    for (const item of list) {
      const object = item as Record<string, unknown>;
      if (object && object.id !== undefined && object.method === undefined) rpc.receive(object as never);
    }
  });
  return {
    request: (method, params) => Promise.resolve(rpc.request(method, params ?? null)),
    close,
  };
}

const initializeParams = (version: string) => ({
  processId: process.pid,
  clientInfo: { name: 'caret-cli', version },
  rootUri: null,
  capabilities: { general: { positionEncodings: ['utf-16'] } },
  workspaceFolders: null,
  initializationOptions: null,
});

export async function connectUnixClient(socketPath: string, version: string): Promise<CliClient> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const decoder = new FrameDecoder(256 * 1024 * 1024);
  const client = makeClient(
    (message) => socket.write(encodeFrame(JSON.stringify(message))),
    () => socket.destroy(),
    (listener) => socket.on('data', (chunk) => decoder.push(chunk).forEach((body) => listener(JSON.parse(body.toString('utf8'))))),
  );
  await client.request('initialize', initializeParams(version));
  return client;
}

export async function connectWebSocketClient(url: string, token: string, version: string): Promise<CliClient> {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(new Error(`WebSocket refused (${response.statusCode}): ${body.trim()}`)));
    });
  });
  const client = makeClient(
    (message) => socket.send(JSON.stringify(message)),
    () => socket.close(),
    (listener) => socket.on('message', (data) => listener(JSON.parse(data.toString()))),
  );
  await client.request('initialize', initializeParams(version));
  return client;
}

export { PROTOCOL_VERSION };
