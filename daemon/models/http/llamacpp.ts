// llama.cpp's server (llama-server): /infill with input_extra and cache_prompt (the server keeps
// the KV cache of the previous prompt, so a stable prompt start is cheap), /completion, and its
// OpenAI-compatible /v1/chat/completions, plus /embedding. The configured URL is the server root
// (`http://127.0.0.1:8012`). Native streams are SSE of `{content, stop}` objects; the last one has
// `stop: true`.
import type { Embedder } from '../embedder.js';
import type {
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
import { deferred, guardHostedPrompt, HttpProvider, httpEmbedder, remoteCapabilities, probe, samplingFields, serverStreamError } from './common.js';
import { OpenAiProvider } from './openai.js';
import { isRecord, joinUrl } from './remote.js';
import { bodyText, malformed, parseEventData, sseEvents, truncated } from './streams.js';
import { displayUrl, postJson } from './transport.js';

export class LlamaCppProvider extends HttpProvider implements ModelProvider {
  readonly kind = 'llamacpp' as const;
  // llama-server has no `prediction` parameter; its speculative decoding is a server flag.
  readonly capabilities: ProviderCapabilities = remoteCapabilities(this.settings);
  private readonly openAi = new OpenAiProvider({ ...this.settings, url: joinUrl(this.settings.url, 'v1') });

  infill(unchecked: InfillRequest): GenerationStream {
    return deferred(() => this.checkedInfill(unchecked));
  }

  private checkedInfill(unchecked: InfillRequest): GenerationStream {
    const request = guardHostedPrompt(this.settings, unchecked, [unchecked.prefix, unchecked.suffix]);
    return this.generate('infill', request, {
      input_prefix: request.prefix,
      input_suffix: request.suffix,
      input_extra: (request.extra ?? []).map((file) => ({ filename: file.filename, text: file.text })),
      prompt: '',
      ...(request.indent !== undefined ? { n_indent: request.indent } : {}),
      ...(request.maxPredictMs !== undefined ? { t_max_predict_ms: request.maxPredictMs } : {}),
    });
  }

  complete(request: CompletionRequest): GenerationStream {
    return deferred(() => {
      guardHostedPrompt(this.settings, {}, [request.prompt]);
      return this.generate('completion', request, { prompt: request.prompt });
    });
  }

  chat(request: ChatRequest): GenerationStream {
    return this.openAi.chat({ ...request, prediction: undefined } as ChatRequest);
  }

  private async *generate(path: string, request: CompletionRequest | InfillRequest, input: Record<string, unknown>): AsyncGenerator<GenerationEvent> {
    const url = joinUrl(this.settings.url, path);
    const shown = displayUrl(url);
    const body = {
      ...input,
      ...(this.settings.model ? { model: this.settings.model } : {}),
      ...samplingFields(request, this.settings.maxTokens, { maxTokens: 'n_predict' }),
      cache_prompt: true,
      stream: true,
    };
    const response = await postJson(this.settings.http, url, body, { headers: this.headers(), ...(request.signal ? { signal: request.signal } : {}) });
    let finish: FinishReason | undefined;
    let usage: Usage | undefined;
    try {
      for await (const event of sseEvents(bodyText(response, 'llamacpp', shown, this.settings.http.timeoutMs, request.signal))) {
        if (event.data === '[DONE]') break;
        const chunk = parseEventData(event, 'llamacpp', shown);
        if (!isRecord(chunk)) throw malformed('llamacpp', shown, 'a streamed event is not an object');
        if (chunk.error !== undefined) {
          const error = chunk.error;
          throw serverStreamError('llamacpp', shown, isRecord(error) && typeof error.message === 'string' ? error.message : String(error));
        }
        if (typeof chunk.content === 'string' && chunk.content) yield { type: 'text', text: chunk.content };
        if (chunk.stop === true) {
          finish = chunk.stop_type === 'limit' ? 'length' : 'stop';
          usage = llamaUsage(chunk);
          break;
        }
      }
    } finally {
      response.close();
    }
    if (finish === undefined) throw truncated('llamacpp', shown);
    yield { type: 'done', finishReason: finish, ...(usage ? { usage } : {}) };
  }

  embedder(): Embedder {
    return httpEmbedder(this.settings, this.headers(), this.id, {
      path: 'embedding',
      batchSize: 32,
      body: (batch) => ({ content: batch }),
      vectors: llamaEmbeddings,
    });
  }

  check(signal?: AbortSignal): Promise<ProviderHealth> {
    return probe(this.settings, joinUrl(this.settings.url, 'health'), this.headers(), signal, (body) =>
      isRecord(body) && body.status !== undefined && body.status !== 'ok' ? `the server says its status is ${JSON.stringify(body.status)}` : undefined,
    );
  }
}

function llamaUsage(chunk: Record<string, unknown>): Usage {
  const usage: Usage = {};
  const timings = isRecord(chunk.timings) ? chunk.timings : {};
  if (typeof chunk.tokens_evaluated === 'number') usage.promptTokens = chunk.tokens_evaluated;
  if (typeof chunk.tokens_predicted === 'number') usage.completionTokens = chunk.tokens_predicted;
  if (typeof chunk.tokens_cached === 'number') usage.cachedPromptTokens = chunk.tokens_cached;
  else if (typeof timings.cache_n === 'number') usage.cachedPromptTokens = timings.cache_n;
  return usage;
}

/**
 * /embedding answers `[{index, embedding}]` (newer servers; `embedding` is one vector when pooled,
 * a list of per-token vectors otherwise) or `{embedding}` (older servers, one input).
 */
export function llamaEmbeddings(body: unknown, expected: number, endpoint: string): Float32Array[] {
  const items = Array.isArray(body) ? body : isRecord(body) ? [body] : [];
  if (items.length !== expected) throw malformed('llamacpp', endpoint, `expected ${expected} embeddings, got ${items.length}`);
  const ordered = [...items].sort((a, b) => Number((a as Record<string, unknown>).index ?? 0) - Number((b as Record<string, unknown>).index ?? 0));
  return ordered.map((item) => {
    let vector = isRecord(item) ? item.embedding : undefined;
    if (Array.isArray(vector) && Array.isArray(vector[0])) {
      if (vector.length !== 1) {
        throw malformed('llamacpp', endpoint, 'the server returned per-token embeddings; start llama-server with --embeddings --pooling mean (or cls/last)');
      }
      vector = vector[0];
    }
    if (!Array.isArray(vector) || vector.some((value) => typeof value !== 'number')) throw malformed('llamacpp', endpoint, 'an embedding is not an array of numbers');
    return Float32Array.from(vector as number[]);
  });
}
