// Message encodings. JSON everywhere; MessagePack on WebSocket binary frames. Records
// (a msgpackr extension) stay off so that any MessagePack library can talk to caret.
import { Packr } from 'msgpackr';

export type Encoding = 'json' | 'msgpack';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeMessage(message: unknown, encoding: Encoding): string | Buffer {
  return encoding === 'json' ? JSON.stringify(message) : packr.pack(message);
}

/** Throws on malformed input; callers answer ParseError (-32700). */
export function decodeMessage(data: string | Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'json') return JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  return packr.unpack(data as Uint8Array);
}
