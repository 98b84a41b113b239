// The HTTP edge of every remote provider: one POST with a timeout, retries with backoff for
// transient failures only, the caller's AbortSignal, proxies and extra CA certificates.
//
// Proxies and CAs come from the environment that matters for the request: the editor's (sent per
// connection in initializationOptions.env) or else the daemon's own. Node 20's built-in fetch
// honours neither HTTPS_PROXY nor a CA file given after start, so requests go through undici's
// fetch with an EnvHttpProxyAgent configured from that environment.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { isLoopbackUrl } from './loopback.js';
import { abortError, ModelError } from '../errors.js';
import type { ProviderKind } from '../provider.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface HttpSettings {
  provider: ProviderKind;
  /** Time allowed for the response headers, and for each gap between streamed chunks. */
  timeoutMs: number;
  /** Extra attempts after a transient failure (connection reset, 408, 429, 5xx, 529). */
  retries: number;
  /** First backoff delay; doubled on each attempt, with jitter. */
  backoffMs?: number;
  /** Environment for proxies and CA certificates. */
  env: Env;
  /** PEM file with extra CA certificates (config `models.caFile`), besides NODE_EXTRA_CA_CERTS. */
  caFile?: string;
}

export interface PostOptions {
  /** GET sends no body (health probes). */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A response whose status was 2xx, with the signal that also bounds reading its body. */
export interface OpenResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array>;
  /** Restarts the idle timer; stream readers call it on each chunk. */
  touch(): void;
  /** Aborted on timeout, caller abort, or `close()`. */
  signal: AbortSignal;
  /** Releases the timer and aborts the request if the body is still being read. */
  close(): void;
}

const transientStatus = new Set([408, 425, 429, 500, 502, 503, 504, 529]);
const transientCodes = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ECONNABORTED']);

const dispatchers = new Map<string, Dispatcher>();

/**
 * One agent per distinct proxy/CA setup; they pool connections, so they are kept. A loopback
 * server (a local llama.cpp or Ollama) is always reached directly: a corporate proxy cannot
 * reach it anyway, and NO_PROXY lists rarely name 127.0.0.1.
 */
export function dispatcherFor(env: Env, caFile?: string, loopback = false): Dispatcher {
  const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
  const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  const caFiles = [env.NODE_EXTRA_CA_CERTS, caFile].filter((file): file is string => !!file);
  const key = JSON.stringify([loopback ? 'direct' : [httpProxy, httpsProxy, noProxy], caFiles]);
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    const extra = caFiles.flatMap((file) => {
      try {
        return [readFileSync(file, 'utf8')];
      } catch {
        return []; // reported by `caret doctor`; the request then fails on the certificate
      }
    });
    const connect = extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {};
    if (loopback) {
      dispatcher = new Agent({ connect });
      dispatchers.set(key, dispatcher);
      return dispatcher;
    }
    dispatcher = new EnvHttpProxyAgent({
      ...(httpProxy ? { httpProxy } : {}),
      ...(httpsProxy ? { httpsProxy } : {}),
      // An empty NO_PROXY must not fall back to the daemon's own variables.
      noProxy: noProxy ?? '',
      connect,
      ...(extra.length > 0 ? { requestTls: { ca: [...rootCertificates, ...extra] }, proxyTls: { ca: [...rootCertificates, ...extra] } } : {}),
    });
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

/** Removes credentials and query strings from a URL before it is shown or logged. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** POSTs JSON and returns the open response, or throws a ModelError naming what to check. */
export async function postJson(settings: HttpSettings, url: string, body: unknown, options: PostOptions = {}): Promise<OpenResponse> {
  const payload = JSON.stringify(body);
  let attempt = 0;
  for (;;) {
    if (options.signal?.aborted) throw abortError(options.signal);
    try {
      return await attemptPost(settings, url, payload, options);
    } catch (error) {
      const retryAfter = error instanceof TransientFailure ? error.retryAfterMs : undefined;
      const transient = error instanceof TransientFailure;
      if (!transient || attempt >= settings.retries) throw transient ? error.final : error;
      const base = (settings.backoffMs ?? 250) * 2 ** attempt;
      const delay = retryAfter ?? base + Math.random() * base * 0.5;
      attempt++;
      try {
        await sleep(Math.min(delay, 30_000), undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw abortError(options.signal);
      }
    }
  }
}

class TransientFailure extends Error {
  constructor(
    readonly final: ModelError,
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

async function attemptPost(settings: HttpSettings, url: string, payload: string, options: PostOptions): Promise<OpenResponse> {
  const shown = displayUrl(url);
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('timed out', 'TimeoutError'));
    }, settings.timeoutMs);
    timer.unref?.();
  };
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const cleanup = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  };
  arm();
  let response: Awaited<ReturnType<typeof undiciFetch>>;
  try {
    response = await undiciFetch(url, {
      method: options.method ?? 'POST',
      headers: { ...(options.method === 'GET' ? {} : { 'content-type': 'application/json' }), accept: 'application/json, text/event-stream, application/x-ndjson', ...options.headers },
      ...(options.method === 'GET' ? {} : { body: payload }),
      signal: controller.signal,
      dispatcher: dispatcherFor(settings.env, settings.caFile, isLoopbackUrl(url)),
    });
  } catch (error) {
    cleanup();
    if (options.signal?.aborted) throw abortError(options.signal);
    if (timedOut) {
      // Not retried: a retry would multiply the wait of a request the user is waiting on.
      throw new ModelError({
        kind: 'timeout',
        provider: settings.provider,
        endpoint: shown,
        message: `no response within ${settings.timeoutMs} ms`,
        fix: 'Check that the server is running and not overloaded, or raise `timeoutMs` for this role',
      });
    }
    const code = networkCode(error);
    const modelError = new ModelError({
      kind: 'unreachable',
      provider: settings.provider,
      endpoint: shown,
      message: `cannot connect (${code ?? (error as Error).message})`,
      fix: unreachableFix(code, settings.env),
      cause: error,
    });
    if (code && transientCodes.has(code)) throw new TransientFailure(modelError);
    throw modelError;
  }

  if (!response.ok) {
    const text = await response.text().catch(() => '');
    cleanup();
    const error = httpStatusError(settings.provider, shown, response.status, text);
    if (transientStatus.has(response.status)) throw new TransientFailure(error, retryAfterMs(response.headers.get('retry-after')));
    throw error;
  }
  if (!response.body) {
    cleanup();
    throw new ModelError({ kind: 'malformed', provider: settings.provider, endpoint: shown, message: 'the response had no body', fix: 'Check that the URL points at the server itself, not a proxy page' });
  }
  return {
    status: response.status,
    headers: response.headers as unknown as Headers,
    body: response.body as unknown as ReadableStream<Uint8Array>,
    signal: controller.signal,
    touch: arm,
    close: () => {
      cleanup();
      if (!controller.signal.aborted) controller.abort(new DOMException('closed', 'AbortError'));
    },
  };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function unreachableFix(code: string | undefined, env: Env): string {
  const proxied = !!(env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy);
  if (code === 'ECONNREFUSED') return 'Check that the server is running and listening on that address and port';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Check the host name in the URL${proxied ? ' and your proxy settings' : ''}`;
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return 'The TLS certificate is not trusted: set NODE_EXTRA_CA_CERTS or `models.caFile` to your CA bundle';
  }
  return proxied ? 'Check the URL, your network, and HTTPS_PROXY/NO_PROXY' : 'Check the URL and your network';
}

/** Extracts the message from the error bodies the supported APIs send. */
export function errorBodyMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const error = (body as { error?: unknown }).error;
      if (typeof error === 'string') return error; // Ollama
      if (error && typeof error === 'object') {
        const message = (error as { message?: unknown }).message; // OpenAI, Anthropic, llama.cpp
        if (typeof message === 'string') return message;
      }
      const message = (body as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // not JSON: fall through
  }
  const trimmed = text.trim();
  return trimmed ? trimmed.slice(0, 300) : undefined;
}

export function httpStatusError(provider: ProviderKind, endpoint: string, status: number, text: string): ModelError {
  const detail = errorBodyMessage(text);
  const message = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  const base = { provider, endpoint, status, message };
  if (status === 401 || status === 403) {
    return new ModelError({ ...base, kind: 'auth', fix: 'Check the API key: the variable named by `apiKeyEnv` must be set in the editor\'s or the daemon\'s environment and be valid for this server' });
  }
  if (status === 404) return new ModelError({ ...base, kind: 'rejected', fix: 'Check the URL (the base URL, without the endpoint path) and that the model name exists on the server' });
  if (status === 429) return new ModelError({ ...base, kind: 'rateLimited', fix: 'The server is rate limiting; wait, or lower the request rate' });
  if (status >= 500) return new ModelError({ ...base, kind: 'server', fix: 'The server failed; check its log' });
  return new ModelError({ ...base, kind: 'rejected', fix: 'The server rejected the request: check the model name and the settings for this role' });
}
