// Content-Length framed JSON over any byte stream: the Unix socket, and stdio for
// `caret lsp --standalone`. Garbage that breaks the framing closes that connection only;
// malformed JSON inside a good frame is answered with ParseError and the connection lives on.
import type { Readable, Writable } from 'node:stream';
import { encodeFrame, ErrorCodes, FrameDecoder, FramingError } from '../../../protocol/index.js';
import type { SessionHub } from '../hub.js';
import type { MessageChannel, Session } from '../session.js';

export interface FramedStreamOptions {
  input: Readable;
  output: Writable;
  transport: MessageChannel['transport'];
  hub: SessionHub;
  maxMessageBytes: number;
  /** Ends the underlying connection (destroy the socket; for stdio, end stdout). */
  end: () => void;
}

export function serveFramedStream(options: FramedStreamOptions): Session {
  const { input, output, hub } = options;
  const decoder = new FrameDecoder(options.maxMessageBytes);
  let closed = false;
  const channel: MessageChannel = {
    transport: options.transport,
    send: (message) => {
      if (!closed && output.writable) output.write(encodeFrame(JSON.stringify(message)));
    },
    close: () => {
      if (closed) return;
      closed = true;
      input.off('data', onData);
      options.end();
    },
  };
  const session = hub.open(channel);

  const onData = (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = decoder.push(chunk);
    } catch (error) {
      const tooLarge = error instanceof FramingError && error.tooLarge;
      session.log.warn('framing error; closing connection', { error: (error as Error).message });
      session.send({
        jsonrpc: '2.0',
        id: null,
        error: tooLarge
          ? { code: ErrorCodes.MessageTooLarge, message: `${(error as Error).message}; closing the connection (raise server.maxMessageBytes if this is legitimate)` }
          : { code: ErrorCodes.ParseError, message: `Parse error: ${(error as Error).message}; closing the connection` },
      });
      // Let the error reach the peer before the close.
      output.write('', () => session.close(tooLarge ? 'message too large' : 'framing error'));
      return;
    }
    for (const body of bodies) {
      let message: unknown;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch (error) {
        hub.parseError(session, (error as Error).message);
        continue;
      }
      hub.receive(session, message);
    }
  };
  input.on('data', onData);
  input.on('end', () => session.close('peer closed the stream'));
  input.on('close', () => session.close('stream closed'));
  input.on('error', (error) => {
    session.log.debug('stream error', { error: error.message });
    session.close('stream error');
  });
  output.on('error', () => session.close('output error'));
  return session;
}
