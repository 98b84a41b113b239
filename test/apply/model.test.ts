// Model apply: speculative edits on the constructed induction-head ONNX model (exactly greedy
// decoding, in far fewer forward passes), and caret/apply + caret/edit through a running daemon
// against a local server speaking the OpenAI chat-completions wire format (Predicted Outputs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { localVerifier, rewritePrompt, SpeculativeRewriter, speculativeDecode } from '../../daemon/apply/index.js';
import { OnnxCausalLm } from '../../daemon/models/index.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { ApiServer, sse, sseHeaders } from '../models/api-server.js';
import { distinctiveCode, inductionModelDir } from './induction-model.js';

const original = [
  'export function area(shape) {',
  '  switch (shape.kind) {',
  '    case "circle": return Math.PI * shape.radius ** 2;',
  '    case "square": return shape.side * shape.side;',
  '  }',
  '  throw new Error(`unknown shape ${shape.kind}`);',
  '}',
  '',
  'export function perimeter(shape) {',
  '  if (shape.kind === "circle") return 2 * Math.PI * shape.radius;',
  '  return 4 * shape.side;',
  '}',
  '',
].join('\n');
const updated = original.replace('    case "square": return shape.side * shape.side;', '    case "square": return shape.side * shape.side;\n    case "rect": return shape.width * shape.height;');

let lm: OnnxCausalLm;
before(async () => {
  lm = new OnnxCausalLm(inductionModelDir().dir);
  await lm.load();
});
after(async () => {
  await lm.dispose();
});

test('the induction-head model copies the updated file it was shown, and speculative edits reproduce greedy decoding', async () => {
  const { eosTokenIds } = await lm.load();
  for (const seed of [1, 2, 3]) {
    const lines = distinctiveCode(14, seed);
    const before = `${lines.join('\n')}\n`;
    const edited = [...lines];
    edited[4] = distinctiveCode(1, seed + 100)[0]!;
    edited.splice(9, 0, distinctiveCode(1, seed + 200)[0]!);
    const after = `${edited.join('\n')}\n`;
    // Shown the whole updated file as the update, the model copies it: what unchanged code needs.
    const prompt = lm.tokenizer.encode(rewritePrompt(before, after));
    const draft = lm.tokenizer.encode(`${before}\`\`\``, { addSpecialTokens: false });
    const stopWhen = (tokens: readonly number[]) => lm.tokenizer.decode(tokens).includes('\n```');
    const spec = await speculativeDecode(localVerifier(lm, prompt), { draft, stopTokens: new Set(eosTokenIds), maxTokens: 600, stopWhen });
    const generated = await lm.generate(prompt, { maxTokens: 600, temperature: 0, stop: ['\n```'], margins: true });
    const upToStop = (text: string) => text.slice(0, text.indexOf('\n```'));
    // Greedy decoding by the engine's own loop (KV cache, one token per pass) and speculative edits agree.
    assert.equal(upToStop(lm.tokenizer.decode(spec.tokens)), generated.text);
    assert.equal(generated.text, after.replace(/\n$/, ''));
    assert.ok(Math.min(...generated.margins!) > 1, 'every greedy choice is clear of the runner-up');
    assert.ok(spec.passes * 5 <= generated.tokens.length, `${spec.passes} speculative passes against ${generated.tokens.length} greedy`);
  }
});

test('SpeculativeRewriter returns the rewritten file with its decoding statistics', async () => {
  const lines = distinctiveCode(12, 9);
  const before = `${lines.join('\n')}\n`;
  const after = `${[...lines.slice(0, 6), distinctiveCode(1, 99)[0]!, ...lines.slice(6)].join('\n')}\n`;
  const rewriter = new SpeculativeRewriter(lm, { provider: 'onnx', model: 'induction' });
  const result = await rewriter.rewrite({ uri: 'file:///code.js', original: before, sketch: after, signal: new AbortController().signal });
  assert.equal(result.text, after);
  assert.ok(result.stats.forwardPasses! * 4 < result.stats.outputTokens, JSON.stringify(result.stats));
  assert.ok(result.stats.acceptedDraftTokens! > result.stats.outputTokens * 0.8);
});

let env: TestEnv;
let daemon: RunningDaemon;
let api: ApiServer;

/** An OpenAI-style streamed chat answer. */
const answer = (text: string, usage: Record<string, unknown> = {}) => ({
  headers: sseHeaders,
  chunks: sse(
    [
      ...text.match(/[\s\S]{1,17}/g)!.map((piece) => ({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })),
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 100, completion_tokens: 40, ...usage } },
    ],
    true,
  ),
});

test('caret/apply with strategy model sends the original as Predicted Outputs and diffs the answer into hunks', async () => {
  api = await ApiServer.start();
  env = makeTestEnv();
  env.writeConfig(['[models.apply]', 'provider = "openai"', `url = "${api.url}/v1"`, 'model = "apply-model"', '[models.chat]', 'provider = "openai"', `url = "${api.url}/v1"`, 'model = "chat-model"', ''].join('\n'));
  daemon = await startTestDaemon(env);
  const connection = await connectUnix(env.paths.socketPath);
  await connection.sendRequest('initialize', initializeParams());
  await connection.sendNotification('initialized', {});
  const uri = 'file:///tmp/caret-apply-model/shapes.js';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 2, text: original } });

  api.on('POST /v1/chat/completions', answer('```javascript\n' + updated + '```\n', { completion_tokens_details: { accepted_prediction_tokens: 120, rejected_prediction_tokens: 3 } }));
  const streamed: Array<{ newText: string; oldRange: unknown }> = [];
  const progress = connection.onProgress({ method: '$/progress' } as never, 'model-1', (value: Array<{ newText: string; oldRange: unknown }>) => streamed.push(...value));
  const result = (await connection.sendRequest('caret/apply', {
    files: [{ textDocument: { uri, version: 2 }, sketch: '// ...\n    case "rect": return shape.width * shape.height;\n// ...' }],
    strategy: 'model',
    partialResultToken: 'model-1',
  })) as { hunks: Array<{ newText: string; oldRange: unknown }>; edit: { documentChanges: Array<{ textDocument: unknown }> }; stats: Record<string, unknown> };
  progress.dispose();
  // The region streamed while the answer was still arriving; the result repeats it.
  assert.deepEqual(streamed.map((hunk) => [hunk.oldRange, hunk.newText]), result.hunks.map((hunk) => [hunk.oldRange, hunk.newText]));
  const body = api.last('/v1/chat/completions').body as { prediction: unknown; model: string; temperature: number };
  assert.deepEqual(body.prediction, { type: 'content', content: original });
  assert.equal(body.model, 'apply-model');
  assert.equal(result.hunks.length, 1);
  assert.equal(result.hunks[0]!.newText, '    case "rect": return shape.width * shape.height;\n');
  assert.deepEqual(result.edit.documentChanges[0]!.textDocument, { uri, version: 2 });
  assert.equal(result.stats.strategy, 'model');
  assert.deepEqual(result.stats.model, { provider: 'openai', model: 'apply-model', outputTokens: 40, acceptedDraftTokens: 120, rejectedDraftTokens: 3 });

  // auto: the merge resolves this sketch by itself, so the model is not asked.
  const before = api.requests.length;
  const auto = (await connection.sendRequest('caret/apply', {
    files: [{ textDocument: { uri }, sketch: '// ...\n    case "square": return shape.side * shape.side;\n    case "rect": return shape.width * shape.height;\n  }\n// ...' }],
  })) as { stats: { strategy: string } };
  assert.equal(auto.stats.strategy, 'merge');
  assert.equal(api.requests.length, before);

  // auto, and the merge cannot place the sketch: the model is asked; when it fails, the merge's answer stands, with the reason.
  api.on('POST /v1/chat/completions', { status: 500, chunks: ['{"error":{"message":"boom"}}'] });
  const failed = (await connection.sendRequest('caret/apply', { files: [{ textDocument: { uri }, sketch: '// ...\n  log(shape);\n// ...' }] })) as { unresolved: Array<{ kind: string; message: string }> };
  assert.ok(failed.unresolved.some((item) => item.kind === 'model'), JSON.stringify(failed.unresolved));
  assert.ok(failed.unresolved.some((item) => item.kind === 'noAnchors'));
  connection.dispose();
});

test('caret/edit: the chat model rewrites the selection, and the answer comes back as streamed hunks', async () => {
  const connection = await connectUnix(env.paths.socketPath);
  await connection.sendRequest('initialize', initializeParams());
  await connection.sendNotification('initialized', {});
  const uri = 'file:///tmp/caret-apply-model/edit.js';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 5, text: original } });
  api.on('POST /v1/chat/completions', answer('```javascript\nexport function perimeter(shape) {\n  if (shape.kind === "circle") return 2 * Math.PI * shape.radius;\n  if (shape.kind === "rect") return 2 * (shape.width + shape.height);\n  return 4 * shape.side;\n}\n```'));
  const streamed: unknown[] = [];
  connection.onProgress({ method: '$/progress' } as never, 'edit-1', (value: unknown[]) => streamed.push(...value));
  const result = (await connection.sendRequest('caret/edit', {
    textDocument: { uri, version: 5 },
    range: { start: { line: 8, character: 0 }, end: { line: 12, character: 0 } },
    instruction: 'support rectangles',
    partialResultToken: 'edit-1',
  })) as { hunks: Array<{ newText: string; oldRange: unknown }>; edit: { documentChanges: Array<{ textDocument: unknown }> } };
  assert.equal(result.hunks.length, 1);
  assert.equal(result.hunks[0]!.newText, '  if (shape.kind === "rect") return 2 * (shape.width + shape.height);\n');
  assert.deepEqual(result.edit.documentChanges[0]!.textDocument, { uri, version: 5 });
  assert.deepEqual(streamed, result.hunks);
  const body = api.last('/v1/chat/completions').body as { messages: Array<{ content: string }>; model: string };
  assert.equal(body.model, 'chat-model');
  assert.match(body.messages[1]!.content, /Instruction: support rectangles/);
  assert.match(body.messages[1]!.content, /The selection:\n```javascript\nexport function perimeter/);

  await assert.rejects(
    connection.sendRequest('caret/edit', { textDocument: { uri, version: 4 }, range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, instruction: 'x' }),
    (error: { code: number }) => error.code === -32801,
  );
  connection.dispose();
  await daemon.stop('test over');
  env.cleanup();
  await api.close();
});
