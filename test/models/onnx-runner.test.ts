// The local ONNX runner through its real path: generated Optimum-layout directories loaded by
// onnxruntime-node in a worker thread.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelError, OnnxCausalLm, createOnnxEmbedder } from '../../daemon/models/index.js';
import { testCausalLm, testEncoder, writeCausalLm } from '../fixtures/models/index.js';

/** Tokens of two greedy runs must match wherever the step's top two logits are further apart than this. */
const marginTolerance = 1e-3;

const prompt = 'export function fibonacci(n: number): number {\n  if (n < 2) return n;\n  return';

describe('causal LM', () => {
  let lm: OnnxCausalLm;
  before(async () => {
    lm = new OnnxCausalLm(testCausalLm(), { threads: 1 });
    await lm.load();
  });
  after(() => lm.dispose());

  test('loads the generated model and reports its shape', async () => {
    const info = await lm.load();
    assert.equal(info.numLayers, 2);
    assert.equal(info.vocabSize, 512);
    assert.deepEqual(info.eosTokenIds, [lm.tokenizer.tokenToId('<|endoftext|>')]);
  });

  test('greedy decoding gives the same tokens with and without prefix KV reuse', async () => {
    await lm.clearCache();
    const cold = await lm.generate(prompt, { maxTokens: 24, reuseCache: false, margins: true });
    const warmup = await lm.generate(prompt, { maxTokens: 24 });
    const reused = await lm.generate(prompt, { maxTokens: 24 });
    assert.equal(warmup.cachedPromptTokens, 0);
    assert.ok(reused.cachedPromptTokens > 0, 'the second identical prompt reuses cached KV state');
    assert.equal(reused.cachedPromptTokens, reused.promptTokens - 1);
    assert.ok(cold.tokens.length > 8, 'decodes several tokens before any end-of-text');
    for (const run of [warmup, reused]) {
      for (let i = 0; i < cold.tokens.length; i++) {
        if (cold.tokens[i] !== run.tokens[i]) {
          assert.ok(cold.margins![i]! <= marginTolerance, `token ${i} differs although its margin is ${cold.margins![i]}`);
          break; // after a legitimate tie the continuations may diverge
        }
      }
    }
    assert.equal(reused.text, lm.tokenizer.decode(reused.tokens));
  });

  test('a prompt changed at its end reuses the common prefix and decodes as a cold run does', async () => {
    await lm.generate(prompt, { maxTokens: 4 });
    const edited = `${prompt} fib`;
    const warm = await lm.generate(edited, { maxTokens: 16 });
    const cold = await lm.generate(edited, { maxTokens: 16, reuseCache: false });
    const promptIds = lm.tokenizer.encode(prompt);
    assert.ok(warm.cachedPromptTokens >= promptIds.length - 2, `reused ${warm.cachedPromptTokens} of ${warm.promptTokens}`);
    assert.deepEqual(warm.tokens, cold.tokens);
  });

  test('batched verification agrees with step-by-step decoding', async () => {
    await lm.clearCache();
    const steps = await lm.generate(prompt, { maxTokens: 16, reuseCache: false, margins: true });
    const verified = await lm.verify(prompt, steps.tokens, { reuseCache: false });
    assert.equal(verified.predicted.length, steps.tokens.length + 1);
    for (let i = 0; i < steps.tokens.length; i++) {
      if (steps.margins![i]! > marginTolerance) assert.equal(verified.predicted[i], steps.tokens[i], `position ${i}`);
      assert.ok(Math.abs(verified.margins[i]! - steps.margins![i]!) < 1e-2, `margins agree at ${i}`);
    }
    assert.equal(verified.accepted, steps.tokens.length);
  });

  test('verification accepts a draft up to its first disagreement', async () => {
    const steps = await lm.generate(prompt, { maxTokens: 8, reuseCache: false });
    const draft = [...steps.tokens];
    draft[5] = (draft[5]! + 1) % 500;
    const verified = await lm.verify(prompt, draft);
    assert.equal(verified.accepted, 5);
    assert.equal(verified.predicted[5], steps.tokens[5]);
    // The cache now holds context + draft; verifying the accepted part again reuses it.
    const again = await lm.verify(prompt, steps.tokens.slice(0, 5));
    assert.ok(again.cachedPromptTokens >= verified.context.length - 1);
    assert.deepEqual(again.predicted.slice(0, 5), steps.tokens.slice(0, 5));
  });

  test('streams text pieces that add up to the result, and sampling is reproducible with a seed', async () => {
    const pieces: string[] = [];
    const sampled = await lm.generate(prompt, { maxTokens: 20, temperature: 0.8, topP: 0.9, seed: 42, onText: (text) => pieces.push(text) });
    assert.equal(pieces.join(''), sampled.text);
    const again = await lm.generate(prompt, { maxTokens: 20, temperature: 0.8, topP: 0.9, seed: 42 });
    assert.deepEqual(again.tokens, sampled.tokens);
    const greedy = await lm.generate(prompt, { maxTokens: 20 });
    const hot = await lm.generate(prompt, { maxTokens: 20, temperature: 5, seed: 7 });
    assert.notDeepEqual(hot.tokens, greedy.tokens, 'a high temperature departs from greedy decoding');
  });

  test('stops before a stop sequence and leaves it out', async () => {
    const free = await lm.generate(prompt, { maxTokens: 24 });
    assert.ok(free.text.length > 6);
    const stopAt = free.text.slice(3, 6);
    const stopped = await lm.generate(prompt, { maxTokens: 24, stop: [stopAt] });
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.text, free.text.slice(0, free.text.indexOf(stopAt)));
    assert.ok(!stopped.text.includes(stopAt));
  });

  test('cancellation stops a long generation and the worker serves the next request', async () => {
    const controller = new AbortController();
    let pieces = 0;
    const running = lm.generate(prompt, {
      maxTokens: 4000,
      signal: controller.signal,
      onText: () => {
        if (++pieces === 3) controller.abort();
      },
    });
    await assert.rejects(running, (error: Error) => error.name === 'AbortError');
    assert.ok(pieces < 100, `stopped after ${pieces} pieces`);
    const next = await lm.generate(prompt, { maxTokens: 4 });
    assert.equal(next.tokens.length, 4);
    await assert.rejects(lm.generate(prompt, { signal: AbortSignal.abort() }), (error: Error) => error.name === 'AbortError');
  });

  test('disposing during a long prefill fails the call, never the process, and the next call starts afresh', async () => {
    const running = lm.generate(Array.from({ length: 6000 }, (_, i) => 65 + (i % 50)), { maxTokens: 1, reuseCache: false });
    const failed = assert.rejects(running, (error: unknown) => error instanceof ModelError && /model worker stopped/.test(error.message));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await lm.dispose();
    await failed;
    const next = await lm.generate(prompt, { maxTokens: 3 });
    assert.equal(next.tokens.length, 3);
    assert.equal(next.cachedPromptTokens, 0, 'a new worker starts with an empty cache');
  });

  test('rejects a prompt longer than the context with a clear error', async () => {
    await assert.rejects(lm.generate(Array.from({ length: 9000 }, () => 65), { maxTokens: 1 }), (error: unknown) => error instanceof ModelError && /context is 8192/.test(error.message));
  });
});

test('a model whose weights live in model.onnx_data loads and decodes like the inline one', async () => {
  const inline = new OnnxCausalLm(testCausalLm({ seed: 3 }));
  const external = new OnnxCausalLm(testCausalLm({ seed: 3, externalData: true }));
  try {
    const a = await inline.generate(prompt, { maxTokens: 12 });
    const b = await external.generate(prompt, { maxTokens: 12 });
    assert.deepEqual(b.tokens, a.tokens);
  } finally {
    await Promise.all([inline.dispose(), external.dispose()]);
  }
});

test('a model with float16 KV cache and logits decodes like its float32 twin, with KV reuse', async () => {
  const full = new OnnxCausalLm(testCausalLm({ seed: 3 }));
  const half = new OnnxCausalLm(testCausalLm({ seed: 3, float16Io: true }));
  try {
    const reference = await full.generate(prompt, { maxTokens: 12, reuseCache: false, margins: true });
    const cold = await half.generate(prompt, { maxTokens: 12, reuseCache: false });
    await half.generate(prompt, { maxTokens: 2 });
    const warm = await half.generate(`${prompt} fib`, { maxTokens: 12 });
    const warmCold = await half.generate(`${prompt} fib`, { maxTokens: 12, reuseCache: false });
    assert.ok(warm.cachedPromptTokens > 0);
    assert.deepEqual(warm.tokens, warmCold.tokens);
    // float16 rounding may flip near-ties only; 0.05 is far above float16's error on these logits.
    for (let i = 0; i < reference.tokens.length; i++) {
      if (reference.tokens[i] !== cold.tokens[i]) {
        assert.ok(reference.margins![i]! < 0.05, `token ${i} differs with margin ${reference.margins![i]}`);
        break;
      }
    }
  } finally {
    await Promise.all([full.dispose(), half.dispose()]);
  }
});

test('the onnx/ sub-folder layout with a merged decoder (use_cache_branch) loads and reuses its cache', async () => {
  const root = mkdtempSync(join(tmpdir(), 'caret-merged-'));
  try {
    writeCausalLm(root, { seed: 3, mergedDecoder: true });
    mkdirSync(join(root, 'onnx'));
    renameSync(join(root, 'model.onnx'), join(root, 'onnx', 'decoder_model_merged.onnx'));
    const merged = new OnnxCausalLm(root);
    const plain = new OnnxCausalLm(testCausalLm({ seed: 3 }));
    try {
      assert.equal(merged.model.modelPath, join(root, 'onnx', 'decoder_model_merged.onnx'));
      const a = await merged.generate(prompt, { maxTokens: 8 });
      const b = await merged.generate(prompt, { maxTokens: 8 });
      assert.ok(b.cachedPromptTokens > 0);
      assert.deepEqual(a.tokens, (await plain.generate(prompt, { maxTokens: 8 })).tokens);
      assert.deepEqual(b.tokens, a.tokens);
    } finally {
      await Promise.all([merged.dispose(), plain.dispose()]);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe('embedding model', () => {
  test('embeds texts in order as normalised vectors of the model width', async () => {
    const embedder = createOnnxEmbedder(testEncoder());
    try {
      assert.equal(embedder.dimensions, 32);
      assert.match(embedder.modelId, /^onnx:[0-9a-f]{16}$/);
      const texts = ['function read(path) {}', 'a stack of items', 'function read(path) {}', 'x'];
      const vectors = await embedder.embed(texts);
      assert.equal(vectors.length, 4);
      for (const vector of vectors) {
        assert.equal(vector.length, 32);
        const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
        assert.ok(Math.abs(norm - 1) < 1e-4);
      }
      assert.deepEqual([...vectors[0]!], [...vectors[2]!]);
      assert.notDeepEqual([...vectors[0]!], [...vectors[1]!]);
      // Padding inside a batch does not change a text's vector.
      const [alone] = await embedder.embed(['x']);
      for (let i = 0; i < 32; i++) assert.ok(Math.abs(alone![i]! - vectors[3]![i]!) < 1e-4);
      assert.deepEqual(await embedder.embed([]), []);
      await assert.rejects(embedder.embed(['x'], AbortSignal.abort()), (error: Error) => error.name === 'AbortError');
    } finally {
      await embedder.dispose?.();
    }
  });

  test('the model id changes with the weights and pooling, not with the path', async () => {
    const a = createOnnxEmbedder(testEncoder());
    const b = createOnnxEmbedder(testEncoder({ seed: 8 }));
    const c = createOnnxEmbedder(testEncoder(), { pooling: 'cls' });
    const copy = mkdtempSync(join(tmpdir(), 'caret-embed-copy-'));
    try {
      for (const file of ['model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(testEncoder(), file), join(copy, file));
      assert.notEqual(a.modelId, b.modelId);
      assert.notEqual(a.modelId, c.modelId);
      assert.equal(createOnnxEmbedder(copy).modelId, a.modelId);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('bad model directories', () => {
  const root = mkdtempSync(join(tmpdir(), 'caret-bad-models-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  function modelDir(name: string, files: Record<string, string | Buffer>): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    return dir;
  }

  const expectError = (create: () => unknown, pattern: RegExp) =>
    assert.throws(create, (error: unknown) => error instanceof ModelError && error.provider === 'onnx' && pattern.test(error.message) && error.fix.length > 0);

  test('a missing directory, a file, and an empty directory', () => {
    expectError(() => new OnnxCausalLm(join(root, 'nope')), /does not exist/);
    const file = join(root, 'file.onnx');
    writeFileSync(file, 'x');
    expectError(() => new OnnxCausalLm(file), /is a file, not a directory/);
    expectError(() => new OnnxCausalLm(modelDir('empty', {})), /no ONNX model file found/);
  });

  test('missing or broken companion files', () => {
    const onnx = Buffer.from([0x08, 0x08]);
    expectError(() => new OnnxCausalLm(modelDir('no-config', { 'model.onnx': onnx, 'tokenizer.json': '{}' })), /config\.json is missing/);
    expectError(() => new OnnxCausalLm(modelDir('no-tokenizer', { 'model.onnx': onnx, 'config.json': '{}' })), /tokenizer\.json is missing/);
    expectError(() => new OnnxCausalLm(modelDir('bad-config', { 'model.onnx': onnx, 'config.json': '{oops', 'tokenizer.json': '{}' })), /config\.json is not valid JSON/);
    assert.throws(() => new OnnxCausalLm(modelDir('bad-tokenizer', { 'model.onnx': onnx, 'config.json': '{}', 'tokenizer.json': '{"version":"1.0"}' })), /no "model" section/);
  });

  test('a Git LFS pointer or a file that is not ONNX', () => {
    const companions = { 'config.json': '{}', 'tokenizer.json': '{}' };
    expectError(() => new OnnxCausalLm(modelDir('lfs', { ...companions, 'model.onnx': 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n' })), /Git LFS pointer/);
    expectError(() => new OnnxCausalLm(modelDir('html', { ...companions, 'model.onnx': '<html>not found</html>' })), /is not an ONNX model/);
  });

  test('a corrupt ONNX file fails at load with a ModelError, not a crash', async () => {
    const source = testCausalLm();
    const dir = modelDir('corrupt', { 'model.onnx': Buffer.concat([Buffer.from([0x08, 0x08, 0x12, 0xff]), Buffer.alloc(64, 0xff)]) });
    for (const file of ['config.json', 'tokenizer.json']) copyFileSync(join(source, file), join(dir, file));
    const lm = new OnnxCausalLm(dir);
    await assert.rejects(lm.load(), (error: unknown) => error instanceof ModelError && /onnxruntime could not load/.test(error.message));
    await lm.dispose();
  });

  test('an encoder configured as a causal LM and the reverse', async () => {
    const encoderAsLm = new OnnxCausalLm(testEncoder());
    await assert.rejects(encoderAsLm.load(), (error: unknown) => error instanceof ModelError && /not a causal language model|without past_key_values/.test(error.message));
    await encoderAsLm.dispose();
    expectError(() => createOnnxEmbedder(testCausalLm()), /causal language model, not an embedding model/);
  });
});
