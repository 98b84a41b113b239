// Ollama: /api/generate (`suffix` for FIM through the model's own template, or `raw` with caret's
// template), /api/chat (tools), /api/embed. The configured URL is the server root
// (`http://127.0.0.1:11434`). Streams are NDJSON; the last object has `done: true`; an error
// mid-stream arrives as `{"error": "..."}`.
import type { Embedder } from '../embedder.js';
import { fimStops, renderFimPrompt } from '../fim.js';
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
  Usage,
} from '../provider.js';
import { deferred, fimCapability, functionTools, guardHostedPrompt, HttpProvider, httpEmbedder, remoteCapabilities, probe, samplingFields, serverStreamError, type SamplingRequest } from './common.js';
import { isRecord, joinUrl, parseToolArguments } from './remote.js';
import { bodyText, malformed, ndjsonValues, truncated } from './streams.js';
import { displayUrl, postJson } from './transport.js';

export class OllamaProvider extends HttpProvider implements ModelProvider {
  readonly kind = 'ollama' as const;
  readonly capabilities: ProviderCapabilities = remoteCapabilities(this.settings, fimCapability(this.settings));

  infill(unchecked: InfillRequest): GenerationStream {
    return deferred(() => this.checkedInfill(unchecked));
  }

  private checkedInfill(unchecked: InfillRequest): GenerationStream {
    const request = guardHostedPrompt(this.settings, unchecked, [unchecked.prefix, unchecked.suffix]);
    const template = this.settings.fimTemplate;
    if (template) return this.complete({ ...request, prompt: renderFimPrompt(template, request), stop: fimStops(template, request.stop) });
    // Ollama applies the model's own FIM template when `suffix` is given; context files go first.
    const extra = (request.extra ?? []).map((file) => `${file.text}${file.text.endsWith('\n') ? '' : '\n'}`).join('');
    return this.generate(request, { prompt: extra + request.prefix, suffix: request.suffix });
  }

  complete(request: CompletionRequest): GenerationStream {
    return deferred(() => {
      guardHostedPrompt(this.settings, {}, [request.prompt]);
      return this.generate(request, { prompt: request.prompt, raw: true });
    });
  }

  private async *generate(request: CompletionRequest | InfillRequest, input: Record<string, unknown>): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, 'api/generate');
    const body = { model: this.settings.model, ...input, stream: true, options: options(request, this.settings.maxTokens) };
    yield* this.stream(url, body, request.signal, (chunk) => (typeof chunk.response === 'string' && chunk.response ? [{ type: 'text', text: chunk.response }] : []));
  }

  async *chat(request: ChatRequest): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, 'api/chat');
    const body = {
      model: this.settings.model,
      messages: request.messages.map(toOllamaMessage),
      ...functionTools(request.tools),
      stream: true,
      options: options(request, this.settings.maxTokens),
    };
    let calls = 0;
    let sawToolCall = false;
    const shown = displayUrl(url);
    for await (const event of this.stream(url, body, request.signal, (chunk) => {
      const message = isRecord(chunk.message) ? chunk.message : {};
      const events: GenerationEvent[] = [];
      if (typeof message.content === 'string' && message.content) events.push({ type: 'text', text: message.content });
      if (Array.isArray(message.tool_calls)) {
        for (const call of message.tool_calls) {
          const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
          if (!fn || typeof fn.name !== 'string') throw malformed('ollama', shown, 'a tool call has no function name');
          const id = isRecord(call) && typeof call.id === 'string' ? call.id : `call_${calls}`;
          calls++;
          events.push({ type: 'toolCall', call: { id, name: fn.name, arguments: parseToolArguments(fn.arguments, this.settings, shown) } });
        }
      }
      return events;
    })) {
      if (event.type === 'toolCall') sawToolCall = true;
      // Ollama ends a tool-calling turn with done_reason "stop"; say what happened.
      yield event.type === 'done' && sawToolCall && event.finishReason === 'stop' ? { ...event, finishReason: 'toolCalls' } : event;
    }
  }

  private async *stream(url: string, body: unknown, signal: AbortSignal | undefined, read: (chunk: Record<string, unknown>) => GenerationEvent[]): AsyncGenerator<GenerationEvent> {
    const shown = displayUrl(url);
    const response = await postJson(this.settings.http, url, body, { headers: this.headers(), ...(signal ? { signal } : {}) });
    let finish: FinishReason | undefined;
    let usage: Usage | undefined;
    try {
      for await (const chunk of ndjsonValues(bodyText(response, 'ollama', shown, this.settings.http.timeoutMs, signal), 'ollama', shown)) {
        if (!isRecord(chunk)) throw malformed('ollama', shown, 'a streamed line is not an object');
        if (typeof chunk.error === 'string') throw serverStreamError('ollama', shown, chunk.error);
        yield* read(chunk);
        if (chunk.done === true) {
          finish = chunk.done_reason === 'length' ? 'length' : chunk.done_reason === undefined || chunk.done_reason === 'stop' ? 'stop' : 'other';
          usage = {
            ...(typeof chunk.prompt_eval_count === 'number' ? { promptTokens: chunk.prompt_eval_count } : {}),
            ...(typeof chunk.eval_count === 'number' ? { completionTokens: chunk.eval_count } : {}),
          };
          break;
        }
      }
    } finally {
      response.close();
    }
    if (finish === undefined) throw truncated('ollama', shown);
    yield { type: 'done', finishReason: finish, ...(usage ? { usage } : {}) };
  }

  embedder(): Embedder {
    const settings = this.settings;
    return httpEmbedder(settings, this.headers(), this.id, {
      path: 'api/embed',
      batchSize: 64,
      body: (batch) => ({ model: settings.model, input: batch }),
      vectors: ollamaEmbeddings,
    });
  }

  check(signal?: AbortSignal): Promise<ProviderHealth> {
    return probe(this.settings, joinUrl(this.settings.url, 'api/tags'), this.headers(), signal, (body) => {
      const names = isRecord(body) && Array.isArray(body.models) ? body.models.flatMap((m) => (isRecord(m) && typeof m.name === 'string' ? [m.name] : [])) : [];
      const wanted = this.settings.model.includes(':') ? this.settings.model : `${this.settings.model}:latest`;
      return names.includes(wanted) || names.includes(this.settings.model)
        ? undefined
        : `model "${this.settings.model}" is not pulled (run: ollama pull ${this.settings.model})`;
    });
  }
}

function options(request: SamplingRequest, defaultMax: number): Record<string, unknown> {
  return samplingFields(request, defaultMax, { maxTokens: 'num_predict' });
}

function toOllamaMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length ? { tool_calls: message.toolCalls.map((call) => ({ function: { name: call.name, arguments: call.arguments } })) } : {}),
      };
    case 'tool':
      return { role: 'tool', content: message.content, ...(message.name ? { tool_name: message.name } : {}) };
    default:
      return { role: message.role, content: message.content };
  }
}

/** The `embeddings` of an Ollama /api/embed answer, one per input. */
function ollamaEmbeddings(body: unknown, expected: number, endpoint: string): Float32Array[] {
  const vectors = isRecord(body) && Array.isArray(body.embeddings) ? body.embeddings : undefined;
  if (!vectors || vectors.length !== expected) throw malformed('ollama', endpoint, `expected ${expected} vectors in \`embeddings\``);
  return vectors.map((vector) => {
    if (!Array.isArray(vector)) throw malformed('ollama', endpoint, 'an embedding is not an array of numbers');
    return Float32Array.from(vector as number[]);
  });
}
