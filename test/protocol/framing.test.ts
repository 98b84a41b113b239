import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeFrame, encodeMessage, FrameDecoder, FramingError } from '../../protocol/index.js';

test('frames round-trip whatever the chunking', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (bodies, cuts) => {
      const stream = Buffer.concat(bodies.map((body) => encodeFrame(JSON.stringify(body))));
      const decoder = new FrameDecoder(1 << 20);
      const out: string[] = [];
      let at = 0;
      for (let i = 0; at < stream.length; i++) {
        const size = cuts[i % cuts.length]!;
        for (const body of decoder.push(stream.subarray(at, at + size))) out.push(JSON.parse(body.toString('utf8')));
        at += size;
      }
      assert.deepEqual(out, bodies);
      assert.equal(decoder.pendingBytes, 0);
    }),
  );
});

test('other headers are allowed; header names are case-insensitive', () => {
  const decoder = new FrameDecoder(1000);
  const bodies = decoder.push(Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}'));
  assert.deepEqual(bodies.map(String), ['{}']);
});

test('broken framing is a FramingError; oversized frames say so', () => {
  assert.throws(() => new FrameDecoder(1000).push(Buffer.from('Content-Length: abc\r\n\r\n')), FramingError);
  assert.throws(() => new FrameDecoder(1000).push(Buffer.from('Content-Type: x\r\n\r\n{}')), /missing Content-Length/);
  assert.throws(() => new FrameDecoder(1000).push(Buffer.from('garbage without colon\r\n\r\n')), /malformed header/);
  assert.throws(() => new FrameDecoder(1000).push(Buffer.alloc(9000, 65)), /header too long/);
  assert.throws(
    () => new FrameDecoder(10).push(Buffer.from('Content-Length: 11\r\n\r\n')),
    (error: unknown) => error instanceof FramingError && error.tooLarge,
  );
});

test('JSON and MessagePack codecs carry the same messages', () => {
  const message = { jsonrpc: '2.0', id: 7, method: 'x/y', params: { text: 'é😀', n: 1.5, list: [null, true], nested: { a: [] } } };
  assert.deepEqual(decodeMessage(encodeMessage(message, 'json'), 'json'), message);
  assert.deepEqual(decodeMessage(encodeMessage(message, 'msgpack'), 'msgpack'), message);
  assert.throws(() => decodeMessage('{"a":', 'json'));
});
