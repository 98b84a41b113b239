import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../daemon/models/index.js';
import { toAnthropicMessages } from '../../daemon/models/http/anthropic.js';
import { ApiServer, sse, sseHeaders } from './api-server.js';
import { collect, registryWith } from './collect.js';

describe('anthropic provider', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const env = { ANTHROPIC_TEST_KEY: 'sk-ant-test-0123456789abcdefghij' };
  const provider = (extra: Record<string, unknown> = {}) =>
    registryWith({ chat: { provider: 'anthropic', url: api.url, model: 'claude-sonnet-4-5', apiKeyEnv: 'ANTHROPIC_TEST_KEY', retries: 1, ...extra } }, env).resolve('chat');
  const messageStart = { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5', stop_reason: null, usage: { input_tokens: 472, output_tokens: 2, cache_read_input_tokens: 400 } } } };

  it('streams text and tool use, with headers and cache_control on the system prompt', async () => {
    api.on('POST /v1/messages', {
      headers: sseHeaders,
      chunks: sse([
        messageStart,
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'ping', data: { type: 'ping' } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'look.' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: {} } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"path": "a' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '.ts"}' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]),
      gapMs: 2,
    });
    const p = provider();
    assert.equal(p.capabilities.fim, 'none');
    assert.equal(p.infill, undefined);
    const result = await collect(
      p.chat!({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Open a.ts' },
        ],
        tools: [{ name: 'read_file', description: 'Reads', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
        maxTokens: 1024,
        stop: ['END'],
      }),
    );
    assert.equal(result.text, 'Let me look.');
    assert.deepEqual(result.toolCalls, [{ id: 'toolu_01', name: 'read_file', arguments: { path: 'a.ts' } }]);
    assert.equal(result.finishReason, 'toolCalls');
    assert.deepEqual(result.usage, { promptTokens: 472, cachedPromptTokens: 400, completionTokens: 89 });
    const request = api.last('/v1/messages');
    assert.equal(request.headers['x-api-key'], env.ANTHROPIC_TEST_KEY);
    assert.equal(request.headers['anthropic-version'], '2023-06-01');
    assert.equal(request.headers.authorization, undefined);
    assert.deepEqual(request.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Open a.ts' }] }],
      tools: [{ name: 'read_file', description: 'Reads', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
      stop_sequences: ['END'],
      stream: true,
    });
  });

  it('maps tool results into alternating user turns', () => {
    const mapped = toAnthropicMessages([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'a', arguments: {} }, { id: 't2', name: 'b', arguments: { x: 1 } }] },
      { role: 'tool', toolCallId: 't1', content: 'A' },
      { role: 'tool', toolCallId: 't2', content: 'B' },
    ]);
    assert.deepEqual(mapped.messages, [
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'a', input: {} }, { type: 'tool_use', id: 't2', name: 'b', input: { x: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'A' }, { type: 'tool_result', tool_use_id: 't2', content: 'B' }] },
    ]);
    assert.deepEqual(mapped.system, []);
  });

  it('reports an error event mid-stream', async () => {
    api.on('POST /v1/messages', { headers: sseHeaders, chunks: sse([messageStart, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]) });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), (error: unknown) => error instanceof ModelError && error.kind === 'server' && /overloaded_error: Overloaded/.test(error.message));
  });

  it('retries 529 overloaded before the stream starts', async () => {
    api.on('POST /v1/messages', (_request, call) =>
      call === 0
        ? { status: 529, headers: { 'retry-after': '0' }, chunks: [JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })] }
        : { headers: sseHeaders, chunks: sse([messageStart, { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } } }, { event: 'message_stop', data: { type: 'message_stop' } }]) },
    );
    assert.equal((await collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] }))).text, 'ok');
  });

  it('does not retry a 400 and shows the API message', async () => {
    let calls = 0;
    api.on('POST /v1/messages', () => {
      calls++;
      return { status: 400, chunks: [JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } })] };
    });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), /HTTP 400: max_tokens: Field required/);
    assert.equal(calls, 1);
  });

  it('treats a stream without message_stop as truncated', async () => {
    api.on('POST /v1/messages', { headers: sseHeaders, chunks: sse([messageStart, { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'par' } } }]), destroy: true });
    await assert.rejects(collect(provider().chat!({ messages: [{ role: 'user', content: 'x' }] })), (error: unknown) => error instanceof ModelError && error.kind === 'malformed');
  });
});
