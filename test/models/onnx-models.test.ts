// The generated test models: valid ONNX that onnxruntime loads, with Optimum's inputs and outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { testCausalLm, testEncoder } from '../fixtures/models/index.js';

test('generated causal LM loads with Optimum inputs and outputs', async () => {
  const dir = testCausalLm();
  const session = await ort.InferenceSession.create(`${dir}/model.onnx`);
  assert.deepEqual([...session.inputNames].slice(0, 3), ['input_ids', 'attention_mask', 'position_ids']);
  assert.ok(session.inputNames.includes('past_key_values.1.value'));
  assert.deepEqual([...session.outputNames].slice(0, 1), ['present.0.key']);
  assert.ok(session.outputNames.includes('logits'));
});
