// The Unix domain socket: Content-Length framing, like stdio. The socket and its folder are
// private to the user (0600 in a 0700 folder); that is its access control.
import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { SessionHub } from '../hub.js';
import { serveFramedStream } from './framed-stream.js';

export interface UnixSocketListener {
  path: string;
  close(): Promise<void>;
}

export async function listenUnixSocket(path: string, hub: SessionHub, maxMessageBytes: () => number): Promise<UnixSocketListener> {
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    serveFramedStream({
      input: socket,
      output: socket,
      transport: 'unix',
      hub,
      maxMessageBytes: maxMessageBytes(),
      // Half-close and keep draining what the peer still sends, so a peer that is mid-write
      // reads our last reply instead of failing on a reset pipe; then let go.
      end: () => {
        socket.resume();
        socket.end();
        const timer = setTimeout(() => socket.destroy(), 2000);
        timer.unref();
        socket.once('close', () => clearTimeout(timer));
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Created with a umask that keeps it private from the first moment.
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
