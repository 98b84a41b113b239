import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NdjsonDecoder, SseDecoder } from '../../daemon/models/index.js';

function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = 0;
  for (const point of points) {
    parts.push(text.slice(start, point));
    start = point;
  }
  parts.push(text.slice(start));
  return parts;
}

describe('stream decoders', () => {
  const stream = 'event: message_start\ndata: {"a":1}\n\n: keep-alive comment\n\ndata: line one\ndata: line two\n\r\ndata:no-space\r\n\r\nid: 7\nretry: 10\ndata: {"b":2}\n\n';
  const expected = [
    { event: 'message_start', data: '{"a":1}' },
    { event: 'message', data: 'line one\nline two' },
    { event: 'message', data: 'no-space' },
    { event: 'message', data: '{"b":2}' },
  ];

  it('decodes SSE events, comments, multi-line data and CRLF', () => {
    const decoder = new SseDecoder();
    assert.deepEqual(decoder.push(stream), expected);
    assert.deepEqual(decoder.end(), { pending: false });
  });

  it('gives the same SSE events however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        const decoder = new SseDecoder();
        const events = splitAt(stream, cuts).flatMap((part) => decoder.push(part));
        assert.deepEqual(events, expected);
      }),
    );
  });

  it('reports an unterminated SSE event at the end', () => {
    const decoder = new SseDecoder();
    decoder.push('data: {"partial"');
    assert.deepEqual(decoder.end(), { pending: true });
  });

  it('splits NDJSON lines however chunked, keeping the unterminated tail', () => {
    const text = '{"a":1}\n\n{"b":"x\\ny"}\n{"c":3}';
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
        const decoder = new NdjsonDecoder();
        const lines = splitAt(text, cuts).flatMap((part) => decoder.push(part));
        assert.deepEqual([...lines, decoder.end()], ['{"a":1}', '{"b":"x\\ny"}', '{"c":3}']);
      }),
    );
  });
});
