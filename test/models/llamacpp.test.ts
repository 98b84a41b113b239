import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../daemon/models/index.js';
import { ApiServer, sse, sseHeaders } from './api-server.js';
import { collect, readyEmbedder, registryWith } from './collect.js';

describe('llamacpp provider', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const provider = (extra: Record<string, unknown> = {}) => registryWith({ completion: { provider: 'llamacpp', url: api.url, retries: 1, timeoutMs: 2000, ...extra } }).resolve('completion');

  it('sends /infill with input_extra and cache_prompt and streams the content', async () => {
    api.on('POST /infill', {
      headers: sseHeaders,
      chunks: sse([
        { content: 'return ', stop: false },
        { content: 'a + b;', stop: false },
        { content: '', stop: true, stop_type: 'eos', tokens_evaluated: 120, tokens_predicted: 4, tokens_cached: 100 },
      ]),
      gapMs: 5,
    });
    const p = provider();
    assert.equal(p.capabilities.fim, 'native');
    assert.equal(p.capabilities.hosted, false);
    const result = await collect(
      p.infill!({ prefix: 'function add(a, b) {\n  ', suffix: '\n}\n', filename: 'src/add.ts', extra: [{ filename: 'src/util.ts', text: 'export const one = 1;\n' }], maxTokens: 32, temperature: 0, stop: ['\n\n'] }),
    );
    assert.equal(result.text, 'return a + b;');
    assert.deepEqual(result.chunks, ['return ', 'a + b;']);
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 120, completionTokens: 4, cachedPromptTokens: 100 });
    assert.equal(result.doneEvents, 1);
    const body = api.last('/infill').body as Record<string, unknown>;
    assert.deepEqual(body, {
      input_prefix: 'function add(a, b) {\n  ',
      input_suffix: '\n}\n',
      input_extra: [{ filename: 'src/util.ts', text: 'export const one = 1;\n' }],
      prompt: '',
      n_predict: 32,
      temperature: 0,
      stop: ['\n\n'],
      cache_prompt: true,
      stream: true,
    });
  });

  it('passes the indentation and time limit llama.cpp understands', async () => {
    api.on('POST /infill', { headers: sseHeaders, chunks: sse([{ content: '', stop: true, stop_type: 'eos' }]) });
    await collect(provider().infill!({ prefix: '    x = ', suffix: '', indent: 4, maxPredictMs: 250 }));
    const body = api.last('/infill').body as Record<string, unknown>;
    assert.equal(body.n_indent, 4);
    assert.equal(body.t_max_predict_ms, 250);
  });

  it('maps stop_type limit to a length finish, via /completion', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'abc', stop: false }, { content: '', stop: true, stop_type: 'limit' }]) });
    const result = await collect(provider().complete!({ prompt: 'x' }));
    assert.equal(result.text, 'abc');
    assert.equal(result.finishReason, 'length');
    assert.equal((api.last('/completion').body as { prompt: string }).prompt, 'x');
  });

  it('rejects a stream that ends before stop:true', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'partial', stop: false }]), destroy: true });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of provider().complete!({ prompt: 'x' })) if (event.type === 'text') seen.push(event.text);
      })(),
      (error: unknown) => error instanceof ModelError && error.kind === 'malformed' && error.message.includes('llamacpp at http://127.0.0.1'),
    );
    assert.deepEqual(seen, ['partial']);
  });

  it('rejects an event that is not JSON, naming the provider', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: ['data: {"content": "a", "stop": fal\n\n'] });
    await assert.rejects(collect(provider().complete!({ prompt: 'x' })), (error: unknown) => error instanceof ModelError && error.kind === 'malformed' && /not JSON/.test(error.message));
  });

  it('reports an error object sent inside the stream', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ error: { code: 500, message: 'context shift disabled', type: 'server_error' } }]) });
    await assert.rejects(collect(provider().complete!({ prompt: 'x' })), (error: unknown) => error instanceof ModelError && error.kind === 'server' && error.message.includes('context shift disabled'));
  });

  it('turns an error body into a message with what to check', async () => {
    api.on('POST /infill', { status: 400, chunks: [JSON.stringify({ error: { code: 400, message: 'Infill is not supported by this model', type: 'invalid_request_error' } })] });
    await assert.rejects(collect(provider().infill!({ prefix: 'a', suffix: 'b' })), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, 'rejected');
      assert.equal(error.status, 400);
      assert.match(error.message, /^llamacpp at http:\/\/127\.0\.0\.1:\d+\/infill: HTTP 400: Infill is not supported by this model\. /);
      return true;
    });
  });

  it('retries a 503 (model loading) and then succeeds', async () => {
    api.on('POST /completion', (_request, index) =>
      index === 0
        ? { status: 503, headers: { 'retry-after': '0' }, chunks: [JSON.stringify({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } })] }
        : { headers: sseHeaders, chunks: sse([{ content: 'ok', stop: true, stop_type: 'eos' }]) },
    );
    const before = api.requests.length;
    const result = await collect(provider().complete!({ prompt: 'x' }));
    assert.equal(result.text, 'ok');
    assert.equal(api.requests.length - before, 2);
  });

  it('chats through /v1/chat/completions', async () => {
    api.on('POST /v1/chat/completions', {
      headers: sseHeaders,
      chunks: sse([{ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] }, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }], true),
    });
    const result = await collect(provider().chat!({ messages: [{ role: 'user', content: 'hello' }] }));
    assert.equal(result.text, 'Hi');
    assert.deepEqual((api.last('/v1/chat/completions').body as { messages: unknown }).messages, [{ role: 'user', content: 'hello' }]);
  });

  it('embeds through /embedding, pooled and older single shapes', async () => {
    api.on('POST /embedding', (request) => {
      const content = (request.body as { content: string[] }).content;
      return { chunks: [JSON.stringify(content.map((_, index) => ({ index, embedding: [[index, 0.5, 1]] })))] };
    });
    const registry = registryWith({ embed: { provider: 'llamacpp', url: api.url } });
    const embedder = await readyEmbedder(registry);
    const vectors = await embedder.embed(['a', 'b']);
    assert.deepEqual(vectors.map((v) => [...v]), [[0, 0.5, 1], [1, 0.5, 1]]);
    assert.equal(embedder.dimensions, 3);
    api.on('POST /embedding', { chunks: [JSON.stringify([{ index: 0, embedding: [[1, 2], [3, 4]] }])] });
    await assert.rejects(embedder.embed(['c']), /--pooling/);
  });

  it('doctor probe reads /health', async () => {
    api.on('GET /health', { chunks: [JSON.stringify({ status: 'ok' })] });
    const health = await provider().check!();
    assert.equal(health.status, 'ok');
    api.on('GET /health', { status: 503, chunks: [JSON.stringify({ error: { code: 503, message: 'Loading model' } })] });
    const loading = await provider({ retries: 0 }).check!();
    assert.equal(loading.status, 'error');
    assert.match(loading.detail, /Loading model/);
  });
});
