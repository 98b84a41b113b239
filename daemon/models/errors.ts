// Errors from the models layer. Each names the provider, where it was talking to, and what the
// user should check, so the message an editor shows is actionable on its own.
import type { ProviderKind } from './provider.js';

export type ModelErrorKind =
  /** Connection refused, DNS failure, TLS failure: nothing answered. */
  | 'unreachable'
  /** No answer within the configured timeout. */
  | 'timeout'
  /** 401/403: missing or wrong API key. */
  | 'auth'
  /** 429 after retries. */
  | 'rateLimited'
  /** 404 model or endpoint, 400 bad request: the configuration does not fit the server. */
  | 'rejected'
  /** 5xx after retries, or a server-side error reported inside a stream. */
  | 'server'
  /** The body or stream could not be understood (malformed or truncated). */
  | 'malformed'
  /** The configuration is incomplete or invalid (no URL, unknown API-key variable...). */
  | 'misconfigured'
  /** The role asked for something the provider cannot do (e.g. FIM on a chat-only API). */
  | 'unsupported'
  /** The send policy refused to send a file to a hosted provider. */
  | 'refused';

export interface ModelErrorInit {
  kind: ModelErrorKind;
  provider: ProviderKind;
  /** URL or model directory. Never carries credentials. */
  endpoint: string;
  message: string;
  /** What to check or do. */
  fix: string;
  status?: number;
  cause?: unknown;
}

export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly provider: ProviderKind;
  readonly endpoint: string;
  readonly fix: string;
  readonly status?: number;

  constructor(init: ModelErrorInit) {
    super(`${init.provider} at ${init.endpoint}: ${init.message}. ${init.fix}`, { cause: init.cause });
    this.name = 'ModelError';
    this.kind = init.kind;
    this.provider = init.provider;
    this.endpoint = init.endpoint;
    this.fix = init.fix;
    if (init.status !== undefined) this.status = init.status;
  }

  /** Plain data for an RPC error's `data` field. */
  toData(): { provider: ProviderKind; endpoint: string; kind: ModelErrorKind; fix: string; status?: number } {
    return { provider: this.provider, endpoint: this.endpoint, kind: this.kind, fix: this.fix, ...(this.status !== undefined ? { status: this.status } : {}) };
  }
}

/** The error an aborted operation rejects with (same shape as fetch's). */
export function abortError(signal?: AbortSignal): Error {
  const reason = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
