// JSON-RPC over WebSocket at ws://127.0.0.1:PORT/rpc: one message or batch per frame; text frames
// carry JSON, binary frames MessagePack, and a reply uses its request's encoding. Messages the
// daemon starts (progress, logs) use the encoding the client last used. Oversized frames are
// refused by ws itself with close code 1009 (Message Too Big), closing that connection only.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMessage, type Encoding, encodeMessage } from '../../../protocol/index.js';
import type { Logger } from '../../log/index.js';
import { originAllowed, tokenFromRequest, tokensEqual } from '../auth.js';
import type { SessionHub } from '../hub.js';
import type { MessageChannel } from '../session.js';

export interface WebSocketListenerOptions {
  host: string;
  port: number;
  token: string;
  allowedOrigins: () => readonly string[];
  maxMessageBytes: number;
  hub: SessionHub;
  log: Logger;
}

export interface WebSocketListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listenWebSocket(options: WebSocketListenerOptions): Promise<WebSocketListener> {
  const { hub, log } = options;
  const http: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' });
    response.end('caret speaks JSON-RPC over WebSocket at /rpc\n');
  });
  const wss = new WebSocketServer({
    server: http,
    path: '/rpc',
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    verifyClient: (info: { origin?: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      const origin = info.req.headers.origin;
      if (!originAllowed(origin, options.allowedOrigins())) {
        log.warn('websocket refused: origin not allowed', { origin });
        return done(false, 403, `Origin ${origin} is not allowed; add it to server.websocket.allowedOrigins`);
      }
      const token = tokenFromRequest(info.req.headers.authorization, info.req.url);
      if (!tokensEqual(token, options.token)) {
        log.warn('websocket refused: missing or wrong token');
        return done(false, 401, 'Missing or wrong token: send "Authorization: Bearer <token>" (the token file is in the caret state dir)');
      }
      done(true);
    },
  });

  wss.on('connection', (socket: WebSocket) => {
    let lastEncoding: Encoding = 'json';
    const sendAs = (message: object, encoding: Encoding) => {
      if (socket.readyState === socket.OPEN) socket.send(encodeMessage(message, encoding), { binary: encoding === 'msgpack' });
    };
    const channel: MessageChannel = {
      transport: 'websocket',
      send: (message) => sendAs(message, lastEncoding),
      close: (reason) => {
        if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(1000, (reason ?? '').slice(0, 120));
      },
    };
    const session = hub.open(channel);
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const encoding: Encoding = isBinary ? 'msgpack' : 'json';
      lastEncoding = encoding;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const respond = (response: object) => sendAs(response, encoding);
      let message: unknown;
      try {
        message = decodeMessage(isBinary ? bytes : bytes.toString('utf8'), encoding);
      } catch (error) {
        hub.parseError(session, (error as Error).message, respond);
        return;
      }
      hub.receive(session, message, respond);
    });
    socket.on('close', () => session.close('websocket closed'));
    socket.on('error', (error) => {
      session.log.warn('websocket error', { error: error.message });
      session.close('websocket error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `ws://${host}:${port}/rpc`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => http.close(() => resolve()));
      }),
  };
}
