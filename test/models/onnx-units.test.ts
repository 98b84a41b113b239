// Pure parts of the ONNX runner: token choice, stop sequences, prefix-cache bookkeeping, and the
// protobuf encoding the model writer relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { argmax, commonPrefixLength, PrefixCache, sampleToken, seededUniform, sliceSequence, StopMatcher, topTwo } from '../../daemon/models/onnx/index.js';
import { ProtoWriter } from '../fixtures/models/protobuf.js';

test('argmax breaks ties by the lowest token id; topTwo reports the margin', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.deepEqual(topTwo([1, 3, 3, 2]), { token: 1, margin: 0 });
  assert.deepEqual(topTwo([0, 5, 2]), { token: 1, margin: 3 });
});

test('sampling: temperature 0 is greedy, top-p keeps the nucleus, a seed reproduces draws', () => {
  const logits = Float32Array.from([0, 4, 3.9, -2]);
  assert.equal(sampleToken(logits, { temperature: 0 }, Math.random), 1);
  const draws = new Set<number>();
  const random = seededUniform(1);
  for (let i = 0; i < 200; i++) draws.add(sampleToken(logits, { temperature: 1, topP: 0.5 }, random));
  assert.deepEqual([...draws], [1], 'top-p 0.5 keeps only the most likely token here');
  const wide = new Set<number>();
  for (let i = 0; i < 500; i++) wide.add(sampleToken(logits, { temperature: 1, topP: 1 }, random));
  assert.ok(wide.has(2) && wide.has(0));
  const a = seededUniform(9);
  const b = seededUniform(9);
  assert.deepEqual(Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 2 }, a)), Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 2 }, b)));
});

test('stop matcher holds back a possible stop prefix and cuts at the first stop', () => {
  const m = new StopMatcher(['\n\n', 'END']);
  assert.deepEqual(m.push('abc'), { text: 'abc', stopped: false });
  assert.deepEqual(m.push('E'), { text: '', stopped: false });
  assert.deepEqual(m.push('x'), { text: 'Ex', stopped: false });
  assert.deepEqual(m.push('foo\n'), { text: 'foo', stopped: false });
  assert.deepEqual(m.push('\nrest'), { text: '', stopped: true });
  const n = new StopMatcher(['END']);
  n.push('a EN');
  assert.equal(n.flush(), 'EN');
});

test('stop matcher output never contains a stop string, whatever the chunking (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'c') }), { maxLength: 12 }), fc.constantFrom('ab', 'cab', 'bb'), (chunks, stop) => {
      const m = new StopMatcher([stop]);
      let out = '';
      let stopped = false;
      for (const chunk of chunks) {
        const r = m.push(chunk);
        out += r.text;
        if (r.stopped) {
          stopped = true;
          break;
        }
      }
      if (!stopped) out += m.flush();
      const full = chunks.join('');
      const at = full.indexOf(stop);
      assert.equal(out, at === -1 ? full : full.slice(0, at));
    }),
  );
});

test('prefix cache finds the longest shared prefix, supersedes prefixes and evicts by budget', () => {
  assert.equal(commonPrefixLength([1, 2, 3], [1, 2, 4]), 2);
  const cache = new PrefixCache<string>(100, 3);
  cache.store({ tokens: [1, 2, 3], state: 'a', bytes: 10 });
  cache.store({ tokens: [1, 2, 3, 4, 5], state: 'b', bytes: 10 });
  assert.equal(cache.size, 1, '[1,2,3] is a prefix of the new entry and is dropped');
  cache.store({ tokens: [7, 8], state: 'c', bytes: 10 });
  assert.equal(cache.lookup([1, 2, 3, 9])?.entry.state, 'b');
  assert.equal(cache.lookup([1, 2, 3, 9])?.length, 3);
  assert.equal(cache.lookup([5]), undefined);
  cache.store({ tokens: [9], state: 'd', bytes: 85 });
  assert.equal(cache.bytes <= 100, true);
  assert.equal(cache.lookup([7, 8]), undefined, 'least recently used entry went first');
  cache.store({ tokens: [6], state: 'huge', bytes: 101 });
  assert.equal(cache.lookup([6]), undefined, 'an entry over the whole budget is not kept');
});

test('sliceSequence keeps the first positions of every head', () => {
  // [1, 2 heads, 3 positions, 2 dims]
  const data = Float32Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual([...sliceSequence(data, [1, 2, 3, 2], 2)], [0, 1, 2, 3, 6, 7, 8, 9]);
  assert.equal(sliceSequence(data, [1, 2, 3, 2], 3), data);
  assert.throws(() => sliceSequence(data, [1, 2, 3, 2], 4), RangeError);
});

test('protobuf writer: varints, negative int64, packed fields and nested messages', () => {
  assert.deepEqual([...new ProtoWriter().int(1, 150).finish()], [0x08, 0x96, 0x01]);
  assert.deepEqual([...new ProtoWriter().int(1, -1).finish()], [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 2, 0x68, 0x69]);
  assert.deepEqual([...new ProtoWriter().packedInts(1, [3, 270]).finish()], [0x0a, 3, 3, 0x8e, 0x02]);
  assert.deepEqual([...new ProtoWriter().message(7, new ProtoWriter().int(1, 1)).finish()], [0x3a, 2, 0x08, 1]);
  assert.deepEqual([...new ProtoWriter().float(2, 1).finish()], [0x15, 0, 0, 0x80, 0x3f]);
});
