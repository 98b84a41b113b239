// Any OpenAI-compatible server (OpenAI, vLLM, LM Studio, llama.cpp's /v1, hosted gateways):
// /v1/completions (with `suffix` for FIM), /v1/chat/completions (tools, streaming, Predicted
// Outputs via `prediction`), /v1/embeddings. Streams are SSE ending with `data: [DONE]`.
// The configured URL is the API base including its version segment (`https://api.openai.com/v1`).
import type { Embedder } from '../embedder.js';
import type {
  ChatMessage,
  ChatRequest,
  CompletionRequest,
  FinishReason,
  GenerationEvent,
  GenerationStream,
  InfillRequest,
  ModelProvider,
  ProviderCapabilities,
  ProviderHealth,
  ToolCall,
  Usage,
} from '../provider.js';
import { fimStops, renderFimPrompt } from '../fim.js';
import { isRecord, joinUrl, parseToolArguments, type RemoteSettings } from './remote.js';
import { bodyText, malformed, parseEventData, sseEvents, truncated } from './streams.js';
import { displayUrl, postJson } from './transport.js';
import {
  deferred,
  fimCapability,
  functionTools,
  guardHostedPrompt,
  HttpProvider,
  httpEmbedder,
  remoteCapabilities,
  probe,
  samplingFields,
  serverStreamError,
  type SamplingRequest,
} from './common.js';

export class OpenAiProvider extends HttpProvider implements ModelProvider {
  /** 'openai', or the provider that delegates its OpenAI-compatible routes here (llamacpp). */
  readonly kind: RemoteSettings['kind'] = this.settings.kind;
  readonly capabilities: ProviderCapabilities = remoteCapabilities(this.settings, { ...fimCapability(this.settings), predictedOutputs: true });

  infill(unchecked: InfillRequest): GenerationStream {
    return deferred(() => this.checkedInfill(unchecked));
  }

  private checkedInfill(unchecked: InfillRequest): GenerationStream {
    const request = guardHostedPrompt(this.settings, unchecked, [unchecked.prefix, unchecked.suffix]);
    const template = this.settings.fimTemplate;
    if (template) {
      return this.complete({ ...request, prompt: renderFimPrompt(template, request), stop: fimStops(template, request.stop) });
    }
    return this.completions(request, { prompt: request.prefix, suffix: request.suffix });
  }

  complete(request: CompletionRequest): GenerationStream {
    return deferred(() => {
      guardHostedPrompt(this.settings, {}, [request.prompt]);
      return this.completions(request, { prompt: request.prompt });
    });
  }

  private async *completions(request: CompletionRequest | InfillRequest, prompt: { prompt: string; suffix?: string }): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, 'completions');
    const body = {
      model: this.settings.model,
      ...prompt,
      ...sampling(request, this.settings.maxTokens),
      stream: true,
      stream_options: { include_usage: true },
    };
    yield* this.stream(url, body, request.signal, (chunk, state) => {
      const choice = firstChoice(chunk);
      if (choice && typeof choice.text === 'string' && choice.text) state.events.push({ type: 'text', text: choice.text });
      if (choice && typeof choice.finish_reason === 'string') state.finish = finishReason(choice.finish_reason);
    });
  }

  async *chat(request: ChatRequest): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, 'chat/completions');
    const body = {
      model: this.settings.model,
      messages: request.messages.map(toOpenAiMessage),
      ...functionTools(request.tools),
      ...(request.prediction !== undefined ? { prediction: { type: 'content', content: request.prediction } } : {}),
      ...chatSampling(request, this.settings),
      stream: true,
      stream_options: { include_usage: true },
    };
    // Tool calls stream as fragments keyed by index: the id and name first, arguments in pieces.
    const calls = new Map<number, { id: string; name: string; args: string }>();
    yield* this.stream(url, body, request.signal, (chunk, state) => {
      const choice = firstChoice(chunk);
      const delta = choice && isRecord(choice.delta) ? choice.delta : undefined;
      if (delta && typeof delta.content === 'string' && delta.content) state.events.push({ type: 'text', text: delta.content });
      if (delta && Array.isArray(delta.tool_calls)) {
        for (const fragment of delta.tool_calls) {
          if (!isRecord(fragment)) continue;
          const index = typeof fragment.index === 'number' ? fragment.index : calls.size;
          const fn = isRecord(fragment.function) ? fragment.function : {};
          const call = calls.get(index) ?? { id: '', name: '', args: '' };
          if (typeof fragment.id === 'string') call.id = fragment.id;
          if (typeof fn.name === 'string') call.name += fn.name;
          if (typeof fn.arguments === 'string') call.args += fn.arguments;
          calls.set(index, call);
        }
      }
      if (choice && typeof choice.finish_reason === 'string') {
        state.finish = finishReason(choice.finish_reason);
        for (const [index, call] of [...calls].sort((a, b) => a[0] - b[0])) {
          const toolCall: ToolCall = { id: call.id || `call_${index}`, name: call.name, arguments: parseToolArguments(call.args, this.settings, this.endpoint) };
          state.events.push({ type: 'toolCall', call: toolCall });
        }
        calls.clear();
      }
    });
  }

  private async *stream(
    url: string,
    body: unknown,
    signal: AbortSignal | undefined,
    onChunk: (chunk: Record<string, unknown>, state: { events: GenerationEvent[]; finish?: FinishReason }) => void,
  ): AsyncGenerator<GenerationEvent> {
    const shown = displayUrl(url);
    const response = await postJson(this.settings.http, url, body, { headers: this.headers(), ...(signal ? { signal } : {}) });
    const state: { events: GenerationEvent[]; finish?: FinishReason } = { events: [] };
    let usage: Usage | undefined;
    let done = false;
    try {
      for await (const event of sseEvents(bodyText(response, this.settings.kind, shown, this.settings.http.timeoutMs, signal))) {
        if (event.data === '[DONE]') {
          done = true;
          break;
        }
        const chunk = parseEventData(event, this.settings.kind, shown);
        if (!isRecord(chunk)) throw malformed(this.settings.kind, shown, 'a streamed event is not an object');
        if (isRecord(chunk.error)) throw serverStreamError(this.settings.kind, shown, typeof chunk.error.message === 'string' ? chunk.error.message : JSON.stringify(chunk.error));
        if (isRecord(chunk.usage)) usage = toUsage(chunk.usage);
        onChunk(chunk, state);
        yield* state.events.splice(0);
      }
    } finally {
      response.close();
    }
    if (!done && state.finish === undefined) throw truncated(this.settings.kind, shown);
    yield { type: 'done', finishReason: state.finish ?? 'stop', ...(usage ? { usage } : {}) };
  }

  embedder(): Embedder {
    const settings = this.settings;
    return httpEmbedder(settings, this.headers(), this.id, {
      path: 'embeddings',
      batchSize: 64,
      body: (batch) => ({ model: settings.model, input: batch, encoding_format: 'float' }),
      vectors: (body, expected, endpoint) => openAiEmbeddings(settings.kind, body, expected, endpoint),
    });
  }

  async check(signal?: AbortSignal): Promise<ProviderHealth> {
    // GET /models lists what the server serves: proves reachability, the key, and the model name.
    return probe(this.settings, joinUrl(this.settings.url, 'models'), this.headers(), signal, (body) => {
      const ids = isRecord(body) && Array.isArray(body.data) ? body.data.flatMap((item) => (isRecord(item) && typeof item.id === 'string' ? [item.id] : [])) : [];
      return ids.length === 0 || ids.includes(this.settings.model) ? undefined : `the server does not list model "${this.settings.model}" (it has: ${ids.slice(0, 8).join(', ')})`;
    });
  }
}

/** The `data` of an OpenAI embeddings answer, ordered by `index`. */
function openAiEmbeddings(provider: RemoteSettings['kind'], body: unknown, expected: number, endpoint: string): Float32Array[] {
  const data = isRecord(body) && Array.isArray(body.data) ? body.data : undefined;
  if (!data || data.length !== expected) throw malformed(provider, endpoint, `expected ${expected} embeddings in \`data\``);
  const ordered = [...data].sort((a, b) => (isRecord(a) && isRecord(b) ? Number(a.index ?? 0) - Number(b.index ?? 0) : 0));
  return ordered.map((item) => {
    if (!isRecord(item) || !Array.isArray(item.embedding)) throw malformed(provider, endpoint, 'an embedding is not an array of numbers');
    return Float32Array.from(item.embedding as number[]);
  });
}

function sampling(request: SamplingRequest, defaultMax: number): Record<string, unknown> {
  // OpenAI accepts at most four stop sequences.
  return samplingFields(request, defaultMax, { maxTokens: 'max_tokens', maxStops: 4 });
}

/**
 * OpenAI's own API refuses `max_tokens` for its reasoning models and wants
 * `max_completion_tokens` in chat; compatible servers (vLLM, llama.cpp, LM Studio) know only
 * `max_tokens`.
 */
export function chatSampling(request: SamplingRequest, settings: RemoteSettings): Record<string, unknown> {
  const fields = sampling(request, settings.maxTokens);
  if (isOpenAiHost(settings.url)) {
    fields.max_completion_tokens = fields.max_tokens;
    delete fields.max_tokens;
  }
  return fields;
}

function isOpenAiHost(url: string): boolean {
  try {
    return new URL(url).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

function firstChoice(chunk: Record<string, unknown>): Record<string, unknown> | undefined {
  const choices = chunk.choices;
  return Array.isArray(choices) && isRecord(choices[0]) ? choices[0] : undefined;
}

function finishReason(reason: string): FinishReason {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'tool_calls' || reason === 'function_call') return 'toolCalls';
  return 'other';
}

function toUsage(usage: Record<string, unknown>): Usage {
  const out: Usage = {};
  if (typeof usage.prompt_tokens === 'number') out.promptTokens = usage.prompt_tokens;
  if (typeof usage.completion_tokens === 'number') out.completionTokens = usage.completion_tokens;
  const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  if (typeof prompt.cached_tokens === 'number') out.cachedPromptTokens = prompt.cached_tokens;
  const completion = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  if (typeof completion.accepted_prediction_tokens === 'number') out.acceptedPredictionTokens = completion.accepted_prediction_tokens;
  if (typeof completion.rejected_prediction_tokens === 'number') out.rejectedPredictionTokens = completion.rejected_prediction_tokens;
  return out;
}

function toOpenAiMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? { tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } })) }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

