// Anthropic's Messages API: /v1/messages with streaming (SSE: message_start, content_block_start,
// content_block_delta with text_delta or input_json_delta, content_block_stop, message_delta with
// stop_reason, message_stop; ping and error events) and tools. The configured URL is the API root
// (`https://api.anthropic.com`). System text is marked for prompt caching, so the stable part of
// long prompts is billed and processed once across requests. No FIM, no embeddings.
import type {
  ChatMessage,
  ChatRequest,
  FinishReason,
  GenerationEvent,
  ModelProvider,
  ProviderCapabilities,
  ProviderHealth,
  Usage,
} from '../provider.js';
import { HttpProvider, remoteCapabilities, probe, samplingFields, serverStreamError } from './common.js';
import { isRecord, joinUrl, parseToolArguments } from './remote.js';
import { bodyText, malformed, parseEventData, sseEvents, truncated } from './streams.js';
import { displayUrl, postJson } from './transport.js';

export const anthropicVersion = '2023-06-01';

export class AnthropicProvider extends HttpProvider implements ModelProvider {
  readonly kind = 'anthropic' as const;
  readonly capabilities: ProviderCapabilities = remoteCapabilities(this.settings, { fim: 'none', completion: false, embeddings: false });

  /** Anthropic's key header and API version instead of a bearer token. */
  protected override headers(): Record<string, string> {
    return { ...(this.settings.apiKey ? { 'x-api-key': this.settings.apiKey } : {}), 'anthropic-version': anthropicVersion, ...this.settings.headers };
  }

  async *chat(request: ChatRequest): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, 'v1/messages');
    const shown = displayUrl(url);
    const { system, messages } = toAnthropicMessages(request.messages);
    const body = {
      model: this.settings.model,
      ...samplingFields(request, this.settings.maxTokens, { maxTokens: 'max_tokens', stop: 'stop_sequences' }),
      ...(system.length ? { system } : {}),
      messages,
      ...(request.tools?.length ? { tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters })) } : {}),
      stream: true,
    };
    const response = await postJson(this.settings.http, url, body, { headers: this.headers(), ...(request.signal ? { signal: request.signal } : {}) });
    const blocks = new Map<number, { id: string; name: string; json: string }>();
    const usage: Usage = {};
    let finish: FinishReason | undefined;
    let stopped = false;
    try {
      for await (const event of sseEvents(bodyText(response, 'anthropic', shown, this.settings.http.timeoutMs, request.signal))) {
        const data = parseEventData(event, 'anthropic', shown);
        if (!isRecord(data)) throw malformed('anthropic', shown, 'a streamed event is not an object');
        const type = typeof data.type === 'string' ? data.type : event.event;
        switch (type) {
          case 'message_start': {
            const u = isRecord(data.message) && isRecord(data.message.usage) ? data.message.usage : {};
            if (typeof u.input_tokens === 'number') usage.promptTokens = u.input_tokens;
            if (typeof u.cache_read_input_tokens === 'number') usage.cachedPromptTokens = u.cache_read_input_tokens;
            break;
          }
          case 'content_block_start': {
            const block = isRecord(data.content_block) ? data.content_block : {};
            const index = Number(data.index);
            if (block.type === 'tool_use') blocks.set(index, { id: String(block.id ?? `toolu_${index}`), name: String(block.name ?? ''), json: '' });
            else if (block.type === 'text' && typeof block.text === 'string' && block.text) yield { type: 'text', text: block.text };
            break;
          }
          case 'content_block_delta': {
            const delta = isRecord(data.delta) ? data.delta : {};
            if (delta.type === 'text_delta' && typeof delta.text === 'string') yield { type: 'text', text: delta.text };
            else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
              const block = blocks.get(Number(data.index));
              if (!block) throw malformed('anthropic', shown, 'tool input arrived for a block that never started');
              block.json += delta.partial_json;
            }
            break;
          }
          case 'content_block_stop': {
            const index = Number(data.index);
            const block = blocks.get(index);
            if (block) {
              blocks.delete(index);
              yield { type: 'toolCall', call: { id: block.id, name: block.name, arguments: parseToolArguments(block.json || '{}', this.settings, shown) } };
            }
            break;
          }
          case 'message_delta': {
            const delta = isRecord(data.delta) ? data.delta : {};
            if (typeof delta.stop_reason === 'string') finish = stopReason(delta.stop_reason);
            const u = isRecord(data.usage) ? data.usage : {};
            if (typeof u.output_tokens === 'number') usage.completionTokens = u.output_tokens;
            break;
          }
          case 'message_stop':
            stopped = true;
            break;
          case 'error': {
            const error = isRecord(data.error) ? data.error : {};
            throw serverStreamError('anthropic', shown, `${String(error.type ?? 'error')}: ${String(error.message ?? '')}`);
          }
          default:
            break; // ping and event types added later
        }
        if (stopped) break;
      }
    } finally {
      response.close();
    }
    if (!stopped) throw truncated('anthropic', shown);
    yield { type: 'done', finishReason: finish ?? 'stop', usage };
  }

  check(signal?: AbortSignal): Promise<ProviderHealth> {
    if (!this.settings.apiKey && this.settings.hosted) {
      return Promise.resolve({ status: 'error', detail: `anthropic at ${this.endpoint}: no API key`, fix: 'Set the variable named by `apiKeyEnv` (ANTHROPIC_API_KEY by default)' });
    }
    return probe(this.settings, joinUrl(this.settings.url, 'v1/models'), this.headers(), signal, (body) => {
      const ids = isRecord(body) && Array.isArray(body.data) ? body.data.flatMap((m) => (isRecord(m) && typeof m.id === 'string' ? [m.id] : [])) : [];
      return ids.length === 0 || ids.includes(this.settings.model) ? undefined : `the API does not list model "${this.settings.model}"`;
    });
  }
}

function stopReason(reason: string): FinishReason {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'toolCalls';
  return 'other';
}

/**
 * Maps caret's messages onto the Messages API: system text goes to `system` (the last block marked
 * for caching), tool results become `tool_result` blocks in a user turn, and consecutive turns of
 * the same role are merged, since the API wants user and assistant to alternate.
 */
export function toAnthropicMessages(messages: readonly ChatMessage[]): { system: Record<string, unknown>[]; messages: Array<{ role: 'user' | 'assistant'; content: Record<string, unknown>[] }> } {
  const system: Record<string, unknown>[] = [];
  const out: Array<{ role: 'user' | 'assistant'; content: Record<string, unknown>[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: Record<string, unknown>[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        system.push({ type: 'text', text: message.content });
        break;
      case 'user':
        push('user', [{ type: 'text', text: message.content }]);
        break;
      case 'assistant':
        push('assistant', [
          ...(message.content ? [{ type: 'text', text: message.content }] : []),
          ...(message.toolCalls ?? []).map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments })),
        ]);
        break;
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }]);
        break;
    }
  }
  const lastSystem = system[system.length - 1];
  if (lastSystem) lastSystem.cache_control = { type: 'ephemeral' };
  return { system, messages: out };
}
