import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DraftIndex, greedyDecode, speculativeDecode, type Verifier } from '../../daemon/apply/speculative.js';

/** An exact verifier over a next-token function of the whole context, counting forward passes. */
function fakeModel(next: (context: readonly number[]) => number, prompt: number[]): Verifier & { context: number[] } {
  const context = [...prompt];
  return {
    context,
    async verify(draft) {
      let accepted = 0;
      while (accepted < draft.length && next([...context, ...draft.slice(0, accepted)]) === draft[accepted]) accepted++;
      context.push(...draft.slice(0, accepted));
      const token = next(context);
      context.push(token);
      return { accepted, next: token };
    },
  };
}

const STOP = 0;
/** A model that writes `target` after the prompt, then stops. */
const writes = (target: readonly number[], promptLength: number) => (context: readonly number[]) => target[context.length - promptLength] ?? STOP;

test('speculative decoding reproduces greedy output exactly, with far fewer passes when the output is mostly the draft', async () => {
  const original = Array.from({ length: 400 }, (_, i) => 1 + ((i * 37) % 97));
  const target = [...original.slice(0, 200), 500, 501, 502, ...original.slice(210)];
  const prompt = [7, 7, 7];
  const spec = await speculativeDecode(fakeModel(writes(target, prompt.length), prompt), { draft: original, stopTokens: new Set([STOP]), maxTokens: 1000, chunk: 32 });
  const greedy = await greedyDecode(fakeModel(writes(target, prompt.length), prompt), { stopTokens: new Set([STOP]), maxTokens: 1000 });
  assert.deepEqual(spec.tokens, target);
  assert.deepEqual(greedy.tokens, target);
  assert.equal(spec.finish, 'stop');
  assert.equal(greedy.passes, target.length + 1);
  assert.ok(spec.passes * 5 <= greedy.passes, `${spec.passes} passes against ${greedy.passes}`);
  assert.equal(spec.accepted + spec.passes - 1, target.length, "every pass adds its accepted tokens and one of its own, except the last (stop)");
});

test('after a departure it realigns past an insertion and past a deletion', async () => {
  const original = Array.from({ length: 300 }, (_, i) => 1 + ((i * 53) % 211));
  const target = [...original.slice(0, 50), 900, 901, ...original.slice(50, 120), ...original.slice(160)];
  const spec = await speculativeDecode(fakeModel(writes(target, 1), [5]), { draft: original, stopTokens: new Set([STOP]), maxTokens: 1000, chunk: 16, realign: 3 });
  assert.deepEqual(spec.tokens, target);
  // Two departures cost a few plain passes each; everything else is verified in chunks.
  assert.ok(spec.passes < 40, `${spec.passes} passes`);
});

test('the length limit holds exactly, even in the middle of an accepted chunk', async () => {
  const original = Array.from({ length: 100 }, (_, i) => 1 + (i % 50));
  const spec = await speculativeDecode(fakeModel(writes(original, 1), [9]), { draft: original, stopTokens: new Set([STOP]), maxTokens: 37, chunk: 16 });
  assert.equal(spec.tokens.length, 37);
  assert.equal(spec.finish, 'length');
  assert.deepEqual(spec.tokens, original.slice(0, 37));
});

test('cancellation stops decoding', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(speculativeDecode(fakeModel(() => 1, [1]), { draft: [1, 1], stopTokens: new Set([STOP]), maxTokens: 10, signal: controller.signal }), { name: 'AbortError' });
});

test('the draft index finds the next place the output lines up with the original', () => {
  const index = new DraftIndex([1, 2, 3, 4, 1, 2, 3, 5], 3);
  assert.equal(index.find([9, 1, 2, 3], 0), 3);
  assert.equal(index.find([9, 1, 2, 3], 4), 7);
  assert.equal(index.find([9, 1, 2, 3], 8), 7, 'none after: the last before');
  assert.equal(index.find([2, 3, 9], 0), undefined);
});

test('speculative output equals greedy output for any model and draft (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 120 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 120 }),
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 150 }),
      async (target, draft, seed, chunk, realign, maxTokens) => {
        // Either a model that writes `target` (like an apply model), or one whose next token is a
        // hash of the last tokens (arbitrary behaviour), chosen by the seed.
        const hashed = (context: readonly number[]) => {
          let h = seed;
          for (const token of context.slice(-3)) h = Math.imul(h ^ token, 2654435761) >>> 0;
          return (h >>> 7) % 7; // 0 is the stop token
        };
        const next = seed % 2 === 0 ? writes(target, 2) : hashed;
        const spec = await speculativeDecode(fakeModel(next, [3, 4]), { draft, stopTokens: new Set([STOP]), maxTokens, chunk, realign });
        const greedy = await greedyDecode(fakeModel(next, [3, 4]), { stopTokens: new Set([STOP]), maxTokens });
        assert.deepEqual(spec.tokens, greedy.tokens);
        assert.equal(spec.finish, greedy.finish);
        assert.ok(spec.passes <= greedy.passes);
      },
    ),
    { numRuns: 400 },
  );
});
