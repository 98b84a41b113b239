import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../daemon/models/index.js';
import { chatSampling } from '../../daemon/models/http/openai.js';
import type { RemoteSettings } from '../../daemon/models/http/remote.js';
import { ApiServer, sse, sseHeaders } from './api-server.js';
import { collect, readyEmbedder, registryWith } from './collect.js';

describe('openai provider', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const env = { LOCAL_KEY: 'sk-local-test-key-0123456789' };
  const provider = (extra: Record<string, unknown> = {}) =>
    registryWith({ chat: { provider: 'openai', url: `${api.url}/v1`, model: 'qwen2.5-coder', apiKeyEnv: 'LOCAL_KEY', retries: 0, ...extra } }, env).resolve('chat');

  it('does FIM through /v1/completions with suffix, with the bearer key', async () => {
    api.on('POST /v1/completions', {
      headers: sseHeaders,
      chunks: sse(
        [
          { id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text: 'a + ', finish_reason: null }] },
          { id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text: 'b', finish_reason: 'stop' }] },
          { id: 'cmpl-1', object: 'text_completion', choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } },
        ],
        true,
      ),
    });
    const result = await collect(provider().infill!({ prefix: 'return ', suffix: ';', maxTokens: 16, stop: ['\n', 'a', 'b', 'c', 'd'] }));
    assert.equal(result.text, 'a + b');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 10, completionTokens: 2 });
    const request = api.last('/v1/completions');
    assert.equal(request.headers.authorization, 'Bearer sk-local-test-key-0123456789');
    assert.deepEqual(request.body, {
      model: 'qwen2.5-coder',
      prompt: 'return ',
      suffix: ';',
      max_tokens: 16,
      stop: ['\n', 'a', 'b', 'c'],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('renders a FIM template into the prompt when one is configured', async () => {
    api.on('POST /v1/completions', { headers: sseHeaders, chunks: sse([{ choices: [{ index: 0, text: 'x', finish_reason: 'stop' }] }], true) });
    const p = provider({ fimTemplate: 'qwen' });
    assert.equal(p.capabilities.fim, 'template');
    await collect(p.infill!({ prefix: 'A', suffix: 'B', filename: 'b.py', extra: [{ filename: 'a.py', text: 'import os' }] }));
    const body = api.last('/v1/completions').body as { prompt: string; suffix?: string; stop: string[] };
    assert.equal(body.prompt, '<|file_sep|>a.py\nimport os\n<|file_sep|>b.py\n<|fim_prefix|>A<|fim_suffix|>B<|fim_middle|>');
    assert.equal(body.suffix, undefined);
    assert.deepEqual(body.stop, ['<|endoftext|>', '<|file_sep|>', '<|fim_pad|>']);
  });

  it('streams chat with tool calls assembled from fragments, and sends prediction', async () => {
    api.on('POST /v1/chat/completions', {
      headers: sseHeaders,
      chunks: sse(
        [
          { choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'read_file', arguments: '' } }] }, finish_reason: null }] },
          { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] }, finish_reason: null }] },
          { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"src/a.ts"}' } }] }, finish_reason: null }] },
          { choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_def', type: 'function', function: { name: 'list', arguments: '{}' } }] }, finish_reason: null }] },
          { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
          { choices: [], usage: { prompt_tokens: 50, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 32 }, completion_tokens_details: { accepted_prediction_tokens: 4, rejected_prediction_tokens: 1 } } },
        ],
        true,
      ),
    });
    const result = await collect(
      provider().chat!({
        messages: [
          { role: 'system', content: 'You edit code.' },
          { role: 'user', content: 'Read a.ts' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'list', arguments: {} }] },
          { role: 'tool', toolCallId: 'call_0', content: 'a.ts' },
        ],
        tools: [{ name: 'read_file', description: 'Reads a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
        prediction: 'const a = 1;\n',
        temperature: 0.2,
      }),
    );
    assert.deepEqual(result.toolCalls, [
      { id: 'call_abc', name: 'read_file', arguments: { path: 'src/a.ts' } },
      { id: 'call_def', name: 'list', arguments: {} },
    ]);
    assert.equal(result.finishReason, 'toolCalls');
    assert.deepEqual(result.usage, { promptTokens: 50, completionTokens: 9, cachedPromptTokens: 32, acceptedPredictionTokens: 4, rejectedPredictionTokens: 1 });
    const body = api.last('/v1/chat/completions').body as Record<string, unknown>;
    assert.deepEqual(body.prediction, { type: 'content', content: 'const a = 1;\n' });
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'read_file', description: 'Reads a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }]);
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You edit code.' },
      { role: 'user', content: 'Read a.ts' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'list', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: 'a.ts' },
    ]);
    assert.equal(body.temperature, 0.2);
  });

  it('names the output cap the way each server expects', () => {
    const settings = (url: string) => ({ url, maxTokens: 100 }) as RemoteSettings;
    assert.deepEqual(chatSampling({ maxTokens: 50 }, settings('https://api.openai.com/v1')), { max_completion_tokens: 50 });
    assert.deepEqual(chatSampling({}, settings('http://127.0.0.1:8000/v1')), { max_tokens: 100 });
  });

  it('rejects tool-call arguments that are not JSON', async () => {
    api.on('POST /v1/chat/completions', {
      headers: sseHeaders,
      chunks: sse([{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{"a":' } }] }, finish_reason: 'tool_calls' }] }], true),
    });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), (error: unknown) => error instanceof ModelError && error.kind === 'malformed');
  });

  it('treats a stream without [DONE] or finish_reason as truncated', async () => {
    api.on('POST /v1/chat/completions', { headers: sseHeaders, chunks: sse([{ choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }] }]) });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), /ended before the response was complete/);
  });

  it('says what to check on 401 and never shows the key', async () => {
    api.on('POST /v1/chat/completions', { status: 401, chunks: [JSON.stringify({ error: { message: 'Incorrect API key provided: sk-loca***', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })] });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, 'auth');
      assert.match(error.message, /openai at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: HTTP 401: Incorrect API key/);
      assert.match(error.message, /apiKeyEnv/);
      assert.ok(!error.message.includes(env.LOCAL_KEY));
      assert.ok(!JSON.stringify(error.toData()).includes(env.LOCAL_KEY));
      return true;
    });
  });

  it('embeds through /v1/embeddings in input order', async () => {
    api.on('POST /v1/embeddings', (request) => {
      const input = (request.body as { input: string[] }).input;
      const data = input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index] })).reverse();
      return { chunks: [JSON.stringify({ object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } })] };
    });
    const embedder = await readyEmbedder(registryWith({ embed: { provider: 'openai', url: `${api.url}/v1`, model: 'embed-small' } }));
    const vectors = await embedder.embed(['a', 'bbb']);
    assert.deepEqual(vectors.map((v) => [...v]), [[1, 0], [3, 1]]);
    assert.deepEqual((api.last('/v1/embeddings').body as { input: string[] }).input, ['a', 'bbb']);
  });

  it('learns the vector length once, or takes it from config', async () => {
    let calls = 0;
    api.on('POST /v1/embeddings', () => {
      calls++;
      return { chunks: [JSON.stringify({ object: 'list', data: [{ index: 0, embedding: [0.1, 0.2, 0.3, 0.4] }] })] };
    });
    const registry = registryWith({ embed: { provider: 'openai', url: `${api.url}/v1`, model: 'e' } });
    assert.equal(registry.embedder(), undefined, 'lexical until the length is known');
    const embedder = await readyEmbedder(registry);
    assert.equal(embedder.dimensions, 4);
    assert.equal(calls, 1, 'one probe');
    const configured = registryWith({ embed: { provider: 'openai', url: `${api.url}/v1`, model: 'e', dimensions: 4 } }).embedder();
    assert.equal(configured?.dimensions, 4);
    assert.equal(calls, 1, 'no probe when configured');
    api.on('POST /v1/embeddings', { status: 404, chunks: [JSON.stringify({ error: { message: 'model not found' } })] });
    const failing = registryWith({ embed: { provider: 'openai', url: `${api.url}/v1`, model: 'gone', retries: 0 } });
    assert.equal(failing.embedder(), undefined);
    for (let i = 0; i < 100 && !failing.embedderProblem(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(failing.embedderProblem() ?? '', /HTTP 404: model not found/);
    assert.equal(failing.embedder(), undefined, 'no new probe within a minute');
  });

  it('doctor warns when the server does not list the model', async () => {
    api.on('GET /v1/models', { chunks: [JSON.stringify({ object: 'list', data: [{ id: 'other-model', object: 'model' }] })] });
    const health = await provider().check!();
    assert.equal(health.status, 'warn');
    assert.match(health.detail, /qwen2\.5-coder/);
  });
});
