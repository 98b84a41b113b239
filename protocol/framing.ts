// LSP base-protocol framing: `Content-Length: N\r\n` (other headers allowed and ignored), a blank
// line, then N bytes of UTF-8 JSON. Used on stdio and the Unix socket. The decoder is incremental
// and pure: feed it bytes, it returns complete message bodies or throws a FramingError, after
// which the stream cannot be resynchronised and the connection must be closed.

const HEADER_END = Buffer.from('\r\n\r\n');
/** Headers are a few dozen bytes; anything longer without a terminator is garbage. */
const MAX_HEADER_BYTES = 8 * 1024;

export class FramingError extends Error {
  constructor(
    message: string,
    /** True when the frame announced a body larger than the limit. */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

export function encodeFrame(body: string | Uint8Array): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private expected = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Appends bytes; returns every message body they complete, in order. */
  push(chunk: Uint8Array): Buffer[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        const end = this.buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffer.length > MAX_HEADER_BYTES) throw new FramingError('header too long or missing "\\r\\n\\r\\n"');
          break;
        }
        this.expected = parseContentLength(this.buffer.subarray(0, end).toString('latin1'), this.maxMessageBytes);
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
      }
      if (this.buffer.length < this.expected) break;
      bodies.push(this.buffer.subarray(0, this.expected));
      this.buffer = this.buffer.subarray(this.expected);
      this.expected = -1;
    }
    return bodies;
  }

  /** Bytes received but not yet part of a complete message (a truncated frame at close). */
  get pendingBytes(): number {
    return this.buffer.length;
  }
}

function parseContentLength(header: string, max: number): number {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FramingError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,15}$/.test(value)) throw new FramingError(`invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
    length = Number(value);
  }
  if (length === undefined) throw new FramingError('missing Content-Length header');
  if (length > max) throw new FramingError(`message of ${length} bytes exceeds the limit of ${max} bytes`, true);
  return length;
}
