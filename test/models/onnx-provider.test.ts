// The onnx provider behind the model registry: the configuration a user writes selects it, it
// streams infill and completions, stops when the consumer leaves, and serves embeddings.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ModelError, ModelRegistry, OnnxProvider, createOnnxProvider, type GenerationEvent, type ModelsSettings } from '../../daemon/models/index.js';
import { testCausalLm, testEncoder } from '../fixtures/models/index.js';

let settings: ModelsSettings = {};
const registry = new ModelRegistry({ settings: () => settings, cpus: 2 });
registry.setLocalFactory(createOnnxProvider);
after(() => registry.dispose());

async function collect(stream: AsyncIterable<GenerationEvent>): Promise<{ text: string; done?: Extract<GenerationEvent, { type: 'done' }> }> {
  let text = '';
  let done: Extract<GenerationEvent, { type: 'done' }> | undefined;
  for await (const event of stream) {
    if (event.type === 'text') text += event.text;
    if (event.type === 'done') done = event;
  }
  return { text, ...(done ? { done } : {}) };
}

test('[models.completion] provider = "onnx" streams fill-in-the-middle with the model FIM tokens', async () => {
  settings = { completion: { provider: 'onnx', path: testCausalLm(), maxTokens: 12 }, nextEdit: { provider: 'onnx', path: testCausalLm() } };
  const provider = registry.resolve('completion');
  assert.equal(provider.kind, 'onnx');
  assert.equal(provider.capabilities.fim, 'template');
  assert.equal(provider.capabilities.fimTemplate?.prefix, '<|fim_prefix|>');
  assert.equal(provider.capabilities.hosted, false);
  assert.equal(provider.capabilities.contextLength, 8192);
  assert.ok(provider.tokenizer && provider.tokenizer.countTokens('return x;') > 0);
  const first = await collect(provider.infill!({ prefix: 'function add(a, b) {\n  return ', suffix: '\n}\n', filename: 'add.ts', maxTokens: 12 }));
  assert.ok(first.done);
  assert.ok(first.done.usage!.completionTokens! <= 12);
  assert.equal(first.done.usage!.cachedPromptTokens, 0);
  // The same prompt again: the prefix cache serves all but the last prompt token.
  const second = await collect(provider.infill!({ prefix: 'function add(a, b) {\n  return ', suffix: '\n}\n', filename: 'add.ts', maxTokens: 12 }));
  assert.equal(second.text, first.text);
  assert.equal(second.done!.usage!.cachedPromptTokens, second.done!.usage!.promptTokens! - 1);
  // Another role on the same directory shares the loaded model and its cache.
  const nextEdit = registry.resolve('nextEdit');
  const third = await collect(nextEdit.infill!({ prefix: 'function add(a, b) {\n  return ', suffix: '\n}\n', filename: 'add.ts', maxTokens: 12 }));
  assert.ok(third.done!.usage!.cachedPromptTokens! > 0);
  const health = await provider.check!();
  assert.equal(health.status, 'ok');
  assert.match(health.detail, /2 layers/);
});

test('leaving the stream early stops generation; an aborted signal rejects with AbortError', async () => {
  settings = { completion: { provider: 'onnx', path: testCausalLm() } };
  const provider = registry.resolve('completion');
  let pieces = 0;
  for await (const event of provider.complete!({ prompt: 'const values = [', maxTokens: 2000 })) {
    if (event.type === 'text' && ++pieces === 2) break;
  }
  assert.equal(pieces, 2);
  // The worker is free again: a short request completes.
  const short = await collect(provider.complete!({ prompt: 'const values = [', maxTokens: 3 }));
  assert.ok(short.done);
  await assert.rejects(collect(provider.complete!({ prompt: 'x', signal: AbortSignal.abort() })), (error: Error) => error.name === 'AbortError');
});

test('[models.embed] provider = "onnx" gives the registry an embedder', async () => {
  settings = { embed: { provider: 'onnx', path: testEncoder() } };
  const embedder = registry.embedder();
  assert.ok(embedder);
  assert.equal(embedder.dimensions, 32);
  const [vector] = await embedder.embed(['search the index']);
  assert.equal(vector!.length, 32);
  assert.equal(registry.resolve('embed').capabilities.embeddings, true);
});

test('misconfigured onnx roles fail with errors naming the directory and the fix', async () => {
  settings = { completion: { provider: 'onnx', path: '/no/such/model' } };
  assert.throws(() => registry.resolve('completion'), (error: unknown) => error instanceof ModelError && error.endpoint === '/no/such/model' && /does not exist/.test(error.message));
  settings = { embed: { provider: 'onnx', path: testCausalLm() } };
  assert.throws(() => registry.embedder(), (error: unknown) => error instanceof ModelError && /not an embedding model/.test(error.message));
  settings = { completion: { provider: 'onnx', path: testEncoder() } };
  const health = await registry.health([undefined]);
  const completion = health.find((h) => h.name === 'model completion');
  assert.equal(completion?.status, 'error');
  assert.match(completion!.detail, /not a causal language model|without past_key_values/);
});

test('[models] kvCacheMiB, kvCachePrompts, prefillChunk and threads reach the runner', async () => {
  const path = testCausalLm();
  settings = { threads: 1, kvCacheMiB: 64, kvCachePrompts: 1, prefillChunk: 7, completion: { provider: 'onnx', path, maxTokens: 2 } };
  const provider = registry.resolve('completion') as OnnxProvider;
  const lm = provider.causalLm()!;
  const info = await lm.load();
  assert.deepEqual({ threads: info.threads, kvCacheBytes: info.kvCacheBytes, maxCachedPrompts: info.maxCachedPrompts, prefillChunk: info.prefillChunk }, { threads: 1, kvCacheBytes: 64 * 1024 * 1024, maxCachedPrompts: 1, prefillChunk: 7 });
  const health = await provider.check();
  assert.match(health.detail, /1 thread, FIM; prompt cache 64 MiB, 1 prompts; prefill 7 tokens/);
  // One prompt kept: a second, unrelated prompt replaces the first.
  await collect(provider.complete!({ prompt: 'const first = 1;\nconst second = 2;\n', maxTokens: 2, temperature: 0 }));
  await collect(provider.complete!({ prompt: 'class Other {}\n', maxTokens: 2, temperature: 0 }));
  assert.equal((await lm.cacheStats()).entries, 1);
  const again = await collect(provider.complete!({ prompt: 'const first = 1;\nconst second = 2;\n', maxTokens: 2, temperature: 0 }));
  assert.equal(again.done!.usage!.cachedPromptTokens, 0, 'the evicted prompt is prefilled again');

  // A changed setting gives a new runner; kvCacheMiB = 0 turns the prompt cache off.
  settings = { ...settings, kvCacheMiB: 0, kvCachePrompts: 8 };
  const uncached = registry.resolve('completion') as OnnxProvider;
  assert.notEqual(uncached, provider);
  assert.equal((await uncached.causalLm()!.load()).kvCacheBytes, 0);
  for (let i = 0; i < 2; i++) {
    const result = await collect(uncached.complete!({ prompt: 'const first = 1;\n', maxTokens: 2, temperature: 0 }));
    assert.equal(result.done!.usage!.cachedPromptTokens, 0);
  }
  assert.equal((await uncached.causalLm()!.cacheStats()).entries, 0);
});
