import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../daemon/models/index.js';
import { ApiServer, ndjson, ndjsonHeaders } from './api-server.js';
import { collect, readyEmbedder, registryWith } from './collect.js';

describe('ollama provider', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const provider = (extra: Record<string, unknown> = {}) => registryWith({ completion: { provider: 'ollama', url: api.url, model: 'qwen2.5-coder:1.5b', retries: 0, ...extra } }).resolve('completion');
  const generated = (parts: string[], last: Record<string, unknown> = { done_reason: 'stop' }) =>
    ndjson([
      ...parts.map((response) => ({ model: 'qwen2.5-coder:1.5b', created_at: '2026-11-24T08:00:00Z', response, done: false })),
      { model: 'qwen2.5-coder:1.5b', created_at: '2026-11-24T08:00:01Z', response: '', done: true, prompt_eval_count: 26, eval_count: 3, ...last },
    ]);

  it('does FIM with suffix through /api/generate and streams NDJSON', async () => {
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: generated(['x', ' * 2']), gapMs: 3 });
    const result = await collect(provider().infill!({ prefix: 'def double(x):\n    return ', suffix: '\n', maxTokens: 20, temperature: 0, extra: [{ filename: 'a.py', text: 'import math' }] }));
    assert.equal(result.text, 'x * 2');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 26, completionTokens: 3 });
    assert.deepEqual(api.last('/api/generate').body, {
      model: 'qwen2.5-coder:1.5b',
      prompt: 'import math\ndef double(x):\n    return ',
      suffix: '\n',
      stream: true,
      options: { num_predict: 20, temperature: 0 },
    });
  });

  it('sends raw prompts with a FIM template', async () => {
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: generated(['1'], { done_reason: 'length' }) });
    const result = await collect(provider({ fimTemplate: 'starcoder' }).infill!({ prefix: 'a', suffix: 'b' }));
    assert.equal(result.finishReason, 'length');
    const body = api.last('/api/generate').body as Record<string, unknown>;
    assert.equal(body.raw, true);
    assert.equal(body.prompt, '<fim_prefix>a<fim_suffix>b<fim_middle>');
    assert.deepEqual((body.options as { stop: string[] }).stop, ['<|endoftext|>', '<file_sep>']);
  });

  it('accepts a last line without a trailing newline', async () => {
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: [JSON.stringify({ response: 'z', done: false }) + '\n', JSON.stringify({ response: '', done: true, done_reason: 'stop' })] });
    assert.equal((await collect(provider().complete!({ prompt: 'p' }))).text, 'z');
  });

  it('reports an error line mid-stream', async () => {
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: ndjson([{ response: 'a', done: false }, { error: 'an error was encountered while running the model: unexpected EOF' }]) });
    await assert.rejects(collect(provider().complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'server' && /unexpected EOF/.test(error.message));
  });

  it('treats a stream without done:true as truncated, and a broken line as malformed', async () => {
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: ndjson([{ response: 'a', done: false }]) });
    await assert.rejects(collect(provider().complete!({ prompt: 'p' })), /ended before the response was complete/);
    api.on('POST /api/generate', { headers: ndjsonHeaders, chunks: ['{"response": "a", "do'] });
    await assert.rejects(collect(provider().complete!({ prompt: 'p' })), /not JSON/);
  });

  it('names the missing model on 404', async () => {
    api.on('POST /api/generate', { status: 404, chunks: [JSON.stringify({ error: "model 'qwen2.5-coder:1.5b' not found" })] });
    await assert.rejects(collect(provider().complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'rejected' && /not found/.test(error.message) && /model name/.test(error.fix));
  });

  it('chats with tools through /api/chat', async () => {
    api.on('POST /api/chat', {
      headers: ndjsonHeaders,
      chunks: ndjson([
        { model: 'm', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false },
        { model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' },
      ]),
    });
    const p = registryWith({ chat: { provider: 'ollama', url: api.url, model: 'm' } }).resolve('chat');
    const result = await collect(
      p.chat!({
        messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'f', arguments: { a: 1 } }] }, { role: 'tool', toolCallId: 'x', name: 'f', content: '42' }],
        tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      }),
    );
    assert.deepEqual(result.toolCalls, [{ id: 'call_0', name: 'get_weather', arguments: { city: 'Paris' } }]);
    assert.equal(result.finishReason, 'toolCalls');
    const body = api.last('/api/chat').body as Record<string, unknown>;
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] },
      { role: 'tool', content: '42', tool_name: 'f' },
    ]);
    assert.equal((body.tools as unknown[]).length, 1);
  });

  it('embeds through /api/embed', async () => {
    api.on('POST /api/embed', (request) => ({ chunks: [JSON.stringify({ model: 'e', embeddings: (request.body as { input: string[] }).input.map((t) => [t.length, 0, 1]) })] }));
    const embedder = await readyEmbedder(registryWith({ embed: { provider: 'ollama', url: api.url, model: 'nomic-embed-text' } }));
    assert.deepEqual((await embedder.embed(['ab', 'c'])).map((v) => [...v]), [[2, 0, 1], [1, 0, 1]]);
  });

  it('doctor says to pull a missing model', async () => {
    api.on('GET /api/tags', { chunks: [JSON.stringify({ models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest' }] })] });
    const health = await provider().check!();
    assert.equal(health.status, 'warn');
    assert.match(health.detail, /ollama pull qwen2\.5-coder:1\.5b/);
    api.on('GET /api/tags', { chunks: [JSON.stringify({ models: [{ name: 'qwen2.5-coder:1.5b' }] })] });
    assert.equal((await provider().check!()).status, 'ok');
  });
});
