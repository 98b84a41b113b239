// A local ONNX model configured in config.toml and used by a running daemon: doctor loads it, and
// inline completion runs through the model's worker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OnnxProvider } from '../../daemon/models/index.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { testCausalLm, testEncoder } from '../fixtures/models/index.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';

let env: TestEnv;
let daemon: RunningDaemon;

before(async () => {
  env = makeTestEnv();
  env.writeConfig(
    [
      '[models]',
      'threads = 1',
      '[models.completion]',
      'provider = "onnx"',
      `path = "${testCausalLm()}"`,
      'maxTokens = 8',
      '[models.embed]',
      'provider = "onnx"',
      `path = "${testEncoder()}"`,
      '',
    ].join('\n'),
  );
  daemon = await startTestDaemon(env);
});
after(async () => {
  await daemon.stop('test over');
  env.cleanup();
});

test('doctor loads the configured onnx models and inline completion runs through the model worker', async () => {
  const connection = await connectUnix(env.paths.socketPath);
  try {
    await connection.sendRequest('initialize', initializeParams({ capabilities: { general: { positionEncodings: ['utf-16'] }, textDocument: { inlineCompletion: {} } } }));
    await connection.sendNotification('initialized', {});
    const { checks } = (await connection.sendRequest('caret/doctor')) as { checks: Array<{ name: string; status: string; detail: string }> };
    const byName = new Map(checks.map((check) => [check.name, check]));
    assert.equal(byName.get('model completion')?.status, 'ok', JSON.stringify(checks));
    assert.match(byName.get('model completion')!.detail, /causal LM at .* loads \(2 layers, 512 tokens, 1 thread, FIM; prompt cache 256 MiB, 8 prompts; prefill 256 tokens\)/);
    assert.equal(byName.get('model embed')?.status, 'ok', JSON.stringify(checks));
    assert.match(byName.get('model embed')!.detail, /32 dimensions/);

    const provider = daemon.runtime.services.models.resolve('completion');
    assert.ok(provider instanceof OnnxProvider);
    const lm = provider.causalLm()!;
    assert.equal((await lm.cacheStats()).entries, 0);
    const uri = 'file:///tmp/caret-onnx/fib.ts';
    const text = 'export function fib(n: number): number {\n  if (n < 2) return n;\n  return \n}\n';
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
    const result = await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 2, character: 9 }, context: { triggerKind: 1 } });
    assert.ok(result === null || typeof result === 'object');
    const stats = await lm.cacheStats();
    assert.ok(stats.entries >= 1 && stats.bytes > 0, 'the completion prompt went through the onnx worker and its KV state is cached');
  } finally {
    connection.dispose();
  }
});
