// Pieces the HTTP providers share: batched embedding with a dimension check, the doctor probe,
// and errors a server reports inside a stream.
import type { Embedder } from '../embedder.js';
import { isAbortError, ModelError } from '../errors.js';
import type { ProviderHealth, ProviderKind } from '../provider.js';
import type { RemoteSettings } from './remote.js';
import { readJson } from './streams.js';
import { displayUrl, postJson } from './transport.js';

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

export type EmbedderWithDimensions = Embedder;

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
