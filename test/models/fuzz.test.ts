// Bad streams never crash a provider: whatever a server sends (valid events, garbage, wrong
// types, a cut connection), a stream either ends with exactly one `done` or fails with a
// ModelError that names the provider.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ModelError, type ModelProvider } from '../../daemon/models/index.js';
import { ApiServer } from './api-server.js';
import { collect, registryWith } from './collect.js';

const junk = fc.oneof(
  fc.constant('data: {"choices": "x"}\n\n'),
  fc.constant('data: {"choices": [{"delta": null, "finish_reason": 7}]}\n\n'),
  fc.constant('data: {"choices": [{"delta": {"tool_calls": [null, {"index": "a", "function": 3}]}}]}\n\n'),
  fc.constant('data: {"content": 5, "stop": "yes"}\n\n'),
  fc.constant('data: [1, 2, 3]\n\n'),
  fc.constant('data: null\n\n'),
  fc.constant('event: content_block_delta\ndata: {"type": "content_block_delta", "index": 9, "delta": {"type": "input_json_delta", "partial_json": "{"}}\n\n'),
  fc.constant('event: content_block_start\ndata: {"type": "content_block_start", "index": 0, "content_block": null}\n\n'),
  fc.constant('{"message": {"tool_calls": [{"function": {}}]}, "done": false}\n'),
  fc.constant('{"response": 12, "done": "no"}\n'),
  fc.constant('{"error": {"nested": true}}\n'),
  fc.string({ maxLength: 40 }),
  fc.constant('\n\n'),
);

const valid: Record<string, string[]> = {
  openai: ['data: {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": null}]}\n\n', 'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n', 'data: [DONE]\n\n'],
  llamacpp: ['data: {"content": "a", "stop": false}\n\n', 'data: {"content": "", "stop": true}\n\n'],
  ollama: ['{"message": {"role": "assistant", "content": "a"}, "done": false}\n', '{"message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}\n'],
  anthropic: [
    'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "a"}}\n\n',
    'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}\n\n',
    'event: message_stop\ndata: {"type": "message_stop"}\n\n',
  ],
};

describe('providers against random streams', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const cases: Array<[string, string, () => ModelProvider]> = [
    ['openai', 'POST /v1/chat/completions', () => registryWith({ chat: { provider: 'openai', url: `${api.url}/v1`, model: 'm', retries: 0 } }).resolve('chat')],
    ['llamacpp', 'POST /v1/chat/completions', () => registryWith({ chat: { provider: 'llamacpp', url: api.url, retries: 0 } }).resolve('chat')],
    ['ollama', 'POST /api/chat', () => registryWith({ chat: { provider: 'ollama', url: api.url, model: 'm', retries: 0 } }).resolve('chat')],
    ['anthropic', 'POST /v1/messages', () => registryWith({ chat: { provider: 'anthropic', url: api.url, model: 'm', apiKeyEnv: 'K', retries: 0 } }, { K: 'k' }).resolve('chat')],
  ];
  for (const [name, route, make] of cases) {
    it(name, async () => {
      const provider = make();
      const pieces = valid[name === 'llamacpp' ? 'openai' : name]!;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof(fc.constantFrom(...pieces), junk), { maxLength: 8 }), fc.boolean(), async (chunks, cut) => {
          api.on(route, { headers: { 'content-type': 'text/event-stream' }, chunks, destroy: cut });
          try {
            const result = await collect(provider.chat!({ messages: [{ role: 'user', content: 'x' }] }));
            assert.equal(result.doneEvents, 1);
          } catch (error) {
            assert.ok(error instanceof ModelError, `not a ModelError: ${(error as Error).stack}`);
            assert.equal(error.provider, name);
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});
