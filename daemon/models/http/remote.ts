// What every HTTP provider shares: its resolved settings, URL joining, the health probe shape, and
// the rule that a stream is complete only when the API's own end marker arrived.
import { createHash } from 'node:crypto';
import type { FimTemplate, ProviderKind } from '../provider.js';
import { displayUrl, type HttpSettings } from './transport.js';
import { malformed } from './streams.js';
export { isLoopbackUrl } from './loopback.js';

/** A provider's configuration after defaults, environment and secrets are resolved. */
export interface RemoteSettings {
  kind: Exclude<ProviderKind, 'builtin' | 'onnx'>;
  /** Base URL, e.g. `http://127.0.0.1:8012` or `https://api.openai.com/v1`. */
  url: string;
  model: string;
  /** The API key's value (from the environment variable named in config). Never logged. */
  apiKey?: string;
  /** Extra request headers from config. */
  headers: Record<string, string>;
  http: HttpSettings;
  contextLength: number;
  /** Markers for template FIM where the server has no native FIM. */
  fimTemplate?: FimTemplate;
  /** Whether code leaves the machine (non-loopback URL unless overridden). */
  hosted: boolean;
  /** Default output cap when a request names none. */
  maxTokens: number;
  /** Embedding length when configured; otherwise learned from the first answer. */
  dimensions?: number;
}

/** Joins a base URL and an endpoint path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Stable id: kind, URL without credentials, model, and a hash of the key (so key changes re-key caches). */
export function remoteId(settings: RemoteSettings): string {
  const keyHash = settings.apiKey ? `#${createHash('sha256').update(settings.apiKey).digest('hex').slice(0, 8)}` : '';
  return `${settings.kind}:${displayUrl(settings.url)}:${settings.model}${keyHash}`;
}

/** Parses tool-call arguments that arrive as JSON text (OpenAI, Anthropic deltas) or objects (Ollama). */
export function parseToolArguments(raw: unknown, settings: RemoteSettings, endpoint: string): Record<string, unknown> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'string') {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through
    }
  }
  throw malformed(settings.kind, endpoint, `a tool call's arguments are not a JSON object (${String(raw).slice(0, 80)})`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
