// Pieces the HTTP providers share: their identity and headers (HttpProvider), the sampling and
// tool fields servers spell alike, batched embedding with a dimension check, the doctor probe, and
// errors a server reports inside a stream.
import type { Embedder } from '../embedder.js';
import { isAbortError, ModelError } from '../errors.js';
import { looksSecretText, sendPolicy } from '../policy.js';
import type { ContextFile, GenerationEvent, GenerationStream, ProviderCapabilities, ProviderHealth, ProviderKind, ToolDefinition } from '../provider.js';
import { joinUrl, remoteId, type RemoteSettings } from './remote.js';
import { readJson } from './streams.js';
import { displayUrl, postJson } from './transport.js';

/** What every HTTP provider is: its settings, the model and server it names, and its request headers. */
export abstract class HttpProvider {
  readonly model: string;
  readonly endpoint: string;
  readonly id: string;

  constructor(protected readonly settings: RemoteSettings) {
    this.model = settings.model;
    this.endpoint = displayUrl(settings.url);
    this.id = remoteId(settings);
  }

  /** `Authorization: Bearer` when a key is set, plus the configured extra headers. */
  protected headers(): Record<string, string> {
    return bearerHeaders(this.settings);
  }
}

/** The sampling a request may set; the token limit falls back to the provider's maxTokens. */
export interface SamplingRequest {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
}

/**
 * Sampling fields in a server's spelling: every server here says `temperature` and `top_p`; the
 * token limit and the stop list go under the names it uses, the stop list cut to what it accepts.
 */
export function samplingFields(
  request: SamplingRequest,
  defaultMax: number,
  names: { maxTokens: string; stop?: string; maxStops?: number },
): Record<string, unknown> {
  return {
    [names.maxTokens]: request.maxTokens ?? defaultMax,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.stop?.length ? { [names.stop ?? 'stop']: request.stop.slice(0, names.maxStops) } : {}),
  };
}

/** Tools in the function-calling shape OpenAI defined and Ollama follows; nothing when there are none. */
export function functionTools(tools: readonly ToolDefinition[] | undefined): { tools?: unknown[] } {
  return tools?.length ? { tools: tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } })) } : {};
}

/** Embeds in batches of `size`, learning `dimensions` from the first answer when unknown and checking every vector. */
export async function embedInBatches(
  embedder: { dimensions: number; modelId: string },
  texts: readonly string[],
  size: number,
  run: (batch: string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += size) {
    const vectors = await run(texts.slice(start, start + size));
    for (const vector of vectors) {
      if (embedder.dimensions === 0) (embedder as { dimensions: number }).dimensions = vector.length;
      if (vector.length !== embedder.dimensions) {
        throw new Error(`${embedder.modelId}: an embedding has ${vector.length} dimensions, expected ${embedder.dimensions}`);
      }
      out.push(vector);
    }
  }
  return out;
}

/** How one server's embedding endpoint is spoken: where, in batches of what size, what to send, how to read the answer. */
export interface EmbeddingWire {
  path: string;
  batchSize: number;
  body: (batch: string[]) => unknown;
  /** Turns the answer into one vector per text, in order; throws `malformed` errors naming `endpoint`. */
  vectors: (body: unknown, expected: number, endpoint: string) => Float32Array[];
}

/** An Embedder that POSTs JSON batches to `settings.url` + `wire.path`. */
export function httpEmbedder(settings: RemoteSettings, headers: Record<string, string>, modelId: string, wire: EmbeddingWire): Embedder {
  const url = joinUrl(settings.url, wire.path);
  const shown = displayUrl(url);
  const embedder: Embedder = {
    modelId,
    dimensions: settings.dimensions ?? 0,
    embed: (texts, signal) =>
      embedInBatches(embedder, texts, wire.batchSize, async (batch) => {
        const response = await postJson(settings.http, url, wire.body(batch), { headers, ...(signal ? { signal } : {}) });
        return wire.vectors(await readJson(response, settings.kind, shown, settings.http.timeoutMs, signal), batch.length, shown);
      }),
  };
  return embedder;
}

/**
 * GETs a cheap endpoint of the server. `inspect` looks at the body and returns a warning (e.g.
 * the model is not on the server) or undefined when all is well.
 */
export async function probe(
  settings: RemoteSettings,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  inspect: (body: unknown) => string | undefined,
): Promise<ProviderHealth> {
  const shown = displayUrl(url);
  try {
    const response = await postJson({ ...settings.http, retries: 0 }, url, undefined, { method: 'GET', headers, ...(signal ? { signal } : {}) });
    const body = await readJson(response, settings.kind, shown, settings.http.timeoutMs, signal);
    const warning = inspect(body);
    if (warning) return { status: 'warn', detail: `${settings.kind} at ${displayUrl(settings.url)}: ${warning}`, fix: 'Check `model` for this role, or load the model on the server' };
    return { status: 'ok', detail: `${settings.kind} at ${displayUrl(settings.url)} answers (model ${settings.model || 'default'})${settings.hosted ? ', hosted' : ''}` };
  } catch (error) {
    if (isAbortError(error)) throw error;
    if (error instanceof ModelError) return { status: 'error', detail: error.message.slice(0, error.message.length - error.fix.length).trim(), fix: error.fix };
    return { status: 'error', detail: `${settings.kind} at ${displayUrl(settings.url)}: ${(error as Error).message}`, fix: 'Check the URL' };
  }
}

export function serverStreamError(provider: ProviderKind, endpoint: string, message: string): ModelError {
  return new ModelError({ kind: 'server', provider, endpoint, message: `the server reported an error mid-response: ${message}`, fix: 'Check the server\'s log' });
}

/**
 * The last line of the send policy, at the edge: for a hosted provider, context files that look
 * like secrets are left out, and a prompt whose own file looks like one, or whose text carries a
 * credential, is refused. Ignored files are the callers' to filter (they know the ignore rules).
 */
export function guardHostedPrompt<T extends { filename?: string; extra?: ContextFile[] }>(settings: RemoteSettings, request: T, texts: readonly string[]): T {
  if (!settings.hosted) return request;
  const refuse = (why: string): never => {
    throw new ModelError({
      kind: 'refused',
      provider: settings.kind,
      endpoint: displayUrl(settings.url),
      message: `not sent: ${why}`,
      fix: 'caret never sends secrets to a hosted model; use a local provider for this file, or set `hosted = false` if this server is yours',
    });
  };
  if (request.filename && !sendPolicy({ path: request.filename }, true).allowed) refuse(`${request.filename} looks like a secrets file`);
  if (texts.some((text) => looksSecretText(text))) refuse(`the code around the cursor${request.filename ? ` in ${request.filename}` : ''} contains what looks like a credential`);
  if (!request.extra) return request;
  return { ...request, extra: request.extra.filter((file) => sendPolicy({ path: file.filename, text: file.text }, true).allowed) };
}

/** Runs `make` when iteration starts, so every failure, checks included, surfaces from the stream. */
export async function* deferred(make: () => GenerationStream): AsyncGenerator<GenerationEvent> {
  yield* make();
}

/** What an HTTP provider can do; each provider names only where it differs. */
export function remoteCapabilities(settings: RemoteSettings, differences: Partial<ProviderCapabilities> = {}): ProviderCapabilities {
  return {
    fim: 'native',
    completion: true,
    chat: true,
    tools: true,
    streaming: true,
    embeddings: true,
    predictedOutputs: false,
    promptCaching: true,
    contextLength: settings.contextLength,
    hosted: settings.hosted,
    ...differences,
  };
}

/** `Authorization: Bearer` when a key is set, plus the configured extra headers. */
export function bearerHeaders(settings: RemoteSettings): Record<string, string> {
  return { ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}), ...settings.headers };
}

/** A FIM template (when configured) turns infill into a raw completion; otherwise the server's own FIM is used. */
export function fimCapability(settings: RemoteSettings): Pick<ProviderCapabilities, 'fim' | 'fimTemplate'> {
  return settings.fimTemplate ? { fim: 'template', fimTemplate: settings.fimTemplate } : { fim: 'native' };
}
