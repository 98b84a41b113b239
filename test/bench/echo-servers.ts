// The floors for the protocol benchmark: a bare WebSocket echo (JSON and MessagePack frames,
// decoded and re-encoded as a server must) and a bare Content-Length socket echo. Run as a
// separate process, like the daemon. Prints its endpoints as one JSON line.
import { createServer } from 'node:net';
import { WebSocketServer } from 'ws';
import { decodeMessage, encodeFrame, encodeMessage, FrameDecoder } from '../../protocol/index.js';

const socketPath = process.argv[2]!;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const encoding = isBinary ? 'msgpack' : 'json';
    const message = decodeMessage(isBinary ? data : data.toString('utf8'), encoding) as { id: number };
    socket.send(encodeMessage({ jsonrpc: '2.0', id: message.id, result: null }, encoding), { binary: isBinary });
  });
});
const server = createServer((socket) => {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder(1 << 26);
  socket.on('data', (chunk) => {
    for (const body of decoder.push(chunk)) {
      const message = JSON.parse(body.toString('utf8')) as { id: number };
      socket.write(encodeFrame(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: null })));
    }
  });
});
server.listen(socketPath, () => {
  wss.on('listening', () => undefined);
  const address = wss.address() as { port: number };
  process.stdout.write(JSON.stringify({ wsUrl: `ws://127.0.0.1:${address.port}/`, socketPath }) + '\n');
});
