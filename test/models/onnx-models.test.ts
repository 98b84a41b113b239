// The generated test models: valid ONNX that onnxruntime loads, with Optimum's inputs and outputs,
// and weights that can be set by construction.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { OnnxCausalLm } from '../../daemon/models/index.js';
import { SeededRandom, testCausalLm, testEncoder, writeCausalLm } from '../fixtures/models/index.js';

test('generated causal LM loads with exactly the inputs and outputs of an Optimum export', async () => {
  const dir = testCausalLm();
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  try {
    assert.deepEqual([...session.inputNames], ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    assert.deepEqual([...session.outputNames].sort(), ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const past = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key')!;
    assert.ok(past.isTensor);
    assert.deepEqual(past.shape, ['batch_size', 2, 'past_sequence_length', 16]);
  } finally {
    await session.release();
  }
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'llama');
  assert.equal(config.num_key_value_heads, 2);
  const generation = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8'));
  assert.deepEqual(generation.eos_token_id, [config.eos_token_id]);
});

test('generation is deterministic: the same seed writes the same bytes, another seed other weights', () => {
  const a = mkdtempSync(join(tmpdir(), 'caret-gen-'));
  const b = mkdtempSync(join(tmpdir(), 'caret-gen-'));
  try {
    writeCausalLm(a, { seed: 5 });
    writeCausalLm(b, { seed: 5 });
    assert.deepEqual(readFileSync(join(a, 'model.onnx')), readFileSync(join(b, 'model.onnx')));
    assert.deepEqual(readFileSync(join(a, 'tokenizer.json')), readFileSync(join(b, 'tokenizer.json')));
    writeCausalLm(b, { seed: 6 });
    assert.notDeepEqual(readFileSync(join(a, 'model.onnx')), readFileSync(join(b, 'model.onnx')));
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('generated encoder has the inputs and output of a feature-extraction export', async () => {
  const session = await ort.InferenceSession.create(join(testEncoder(), 'model.onnx'));
  try {
    assert.deepEqual([...session.inputNames], ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual([...session.outputNames], ['last_hidden_state']);
  } finally {
    await session.release();
  }
});

test('weights set by construction decide what greedy decoding writes', async () => {
  // Attention and MLP weights zero (the residual stream carries the token embedding through),
  // and an LM head that maps each token's embedding to the embedding of the next id: greedy
  // decoding then counts upwards from the last prompt token.
  const dir = mkdtempSync(join(tmpdir(), 'caret-constructed-'));
  const lm = (() => {
    writeCausalLm(dir, {
      hiddenSize: 128,
      rotary: false,
      weights: (config) => {
        const d = config.hiddenSize;
        const rng = new SeededRandom(11);
        const embed = rng.normals(config.vocabSize * d, 1);
        const lmHead = new Float32Array(d * config.vocabSize);
        for (let token = 0; token + 1 < 400; token++) {
          const next = token + 1;
          for (let i = 0; i < d; i++) lmHead[i * config.vocabSize + next] = embed[token * d + i]!;
        }
        const zeros = (n: number) => new Float32Array(n);
        const layers = Array.from({ length: config.numLayers }, () => ({
          inputNorm: new Float32Array(d).fill(1),
          q: zeros(d * config.numHeads * config.headDim),
          k: zeros(d * config.numKvHeads * config.headDim),
          v: zeros(d * config.numKvHeads * config.headDim),
          o: zeros(config.numHeads * config.headDim * d),
          postNorm: new Float32Array(d).fill(1),
          gate: zeros(d * config.intermediateSize),
          up: zeros(d * config.intermediateSize),
          down: zeros(config.intermediateSize * d),
        }));
        return { embed, layers, finalNorm: new Float32Array(d).fill(1), lmHead, positionEmbeddings: zeros(config.maxPositionEmbeddings * d) };
      },
    });
    return new OnnxCausalLm(dir);
  })();
  try {
    const result = await lm.generate([7, 8, 100], { maxTokens: 6 });
    assert.deepEqual(result.tokens, [101, 102, 103, 104, 105, 106]);
    const verified = await lm.verify([7, 8, 100], [101, 102, 300, 104]);
    assert.equal(verified.accepted, 2);
  } finally {
    await lm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
