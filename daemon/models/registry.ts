// The model registry (services.models): resolves the provider for a role from the effective
// configuration of a workspace root and the environment of the editor that asks. The config is
// read on every resolve, so an edited config.toml takes effect at the next request; providers are
// cached by their resolved settings, so an unchanged configuration reuses connections and caches.
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BuiltinProvider } from './builtin.js';
import type { Embedder } from './embedder.js';
import { ModelError } from './errors.js';
import { fimTemplates, isFimTemplateName } from './fim.js';
import { IgnoredPaths } from './ignored-paths.js';
import { guardIgnored } from './send-guard.js';
import { AnthropicProvider } from './http/anthropic.js';
import { LlamaCppProvider } from './http/llamacpp.js';
import { OllamaProvider } from './http/ollama.js';
import { OpenAiProvider } from './http/openai.js';
import { isLoopbackUrl, type RemoteSettings } from './http/remote.js';
import { displayUrl, type Env } from './http/transport.js';
import {
  type FimTemplate,
  type ModelProvider,
  type ModelResolver,
  type ModelRole,
  modelRoles,
  type ProviderHealth,
  type ProviderKind,
  type ResolveScope,
} from './provider.js';

/** One role's settings as configured (`[models.<role>]`); mirrors the config schema. */
export interface RoleSettings {
  provider?: ProviderKind;
  url?: string;
  model?: string;
  path?: string;
  apiKeyEnv?: string;
  headers?: Record<string, string>;
  hosted?: boolean;
  fimTemplate?: string;
  contextLength?: number;
  maxTokens?: number;
  timeoutMs?: number;
  retries?: number;
  dimensions?: number;
}

/** The `[models]` section. */
export interface ModelsSettings {
  threads?: number;
  caFile?: string;
  /** onnx: MiB of KV state kept for recent prompts per loaded model (0: no prompt cache). */
  kvCacheMiB?: number;
  /** onnx: most prompts whose KV state is kept. */
  kvCachePrompts?: number;
  /** onnx: prompt tokens per forward pass while prefilling. */
  prefillChunk?: number;
  completion?: RoleSettings;
  nextEdit?: RoleSettings;
  apply?: RoleSettings;
  chat?: RoleSettings;
  embed?: RoleSettings;
}

/** What a local-model factory (onnx) is given. */
export interface LocalModelSettings {
  role: ModelRole;
  path: string;
  model: string;
  /** Inference threads (the thread budget). */
  threads: number;
  /** Bytes of KV state kept for recent prompts (`models.kvCacheMiB`). */
  kvCacheBytes: number;
  /** Most prompts whose KV state is kept (`models.kvCachePrompts`). */
  maxCachedPrompts: number;
  /** Prompt tokens per forward pass while prefilling (`models.prefillChunk`). */
  prefillChunk: number;
  contextLength: number;
  maxTokens: number;
  fimTemplate?: FimTemplate;
}

export type LocalModelFactory = (settings: LocalModelSettings) => ModelProvider;

export interface ModelRegistryOptions {
  /** The `[models]` section effective for a root (the user's alone when root is undefined). */
  settings: (root?: string) => ModelsSettings | undefined;
  /** The daemon's own environment; an editor's env (ResolveScope.env) overrides it. */
  processEnv?: Env;
  cpus?: number;
  /** How many resolved providers stay cached; older ones are disposed. */
  cacheSize?: number;
  /** Answers whether a file is ignored in a root (default: .gitignore/.caretignore, re-read on change). */
  ignoredPaths?: IgnoredPaths;
}

export const defaultUrls: Record<RemoteSettings['kind'], string> = {
  llamacpp: 'http://127.0.0.1:8012',
  ollama: 'http://127.0.0.1:11434',
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
};

const defaultKeyEnv: Partial<Record<RemoteSettings['kind'], string>> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

/** Inference threads: the configured number, or one less than the cores (at least one). */
export function threadBudget(configured: number | undefined, cpus: number): number {
  return configured && configured > 0 ? configured : Math.max(1, cpus - 1);
}

export class ModelRegistry extends EventEmitter<{ change: [] }> implements ModelResolver {
  readonly builtin = new BuiltinProvider();
  private readonly cache = new Map<string, ModelProvider>();
  private readonly embedders = new WeakMap<ModelProvider, Embedder>();
  private readonly dimensionProbes = new WeakMap<Embedder, { failedAt?: number; error?: string }>();
  private localFactory?: LocalModelFactory;
  private readonly cpus: number;
  /** The one place that knows whether a path is ignored, for the send policy. */
  readonly ignoredPaths: IgnoredPaths;
  private readonly guarded = new WeakMap<ModelProvider, Map<string, ModelProvider>>();

  constructor(private readonly options: ModelRegistryOptions) {
    super();
    this.cpus = options.cpus ?? availableParallelism();
    this.ignoredPaths = options.ignoredPaths ?? new IgnoredPaths();
  }

  /** A hosted provider, bound to the request's root, never sees text from that root's ignored files. */
  private guard(provider: ModelProvider, root: string | undefined): ModelProvider {
    if (!provider.capabilities.hosted || !root) return provider;
    let byRoot = this.guarded.get(provider);
    if (!byRoot) this.guarded.set(provider, (byRoot = new Map()));
    let guarded = byRoot.get(root);
    if (!guarded) byRoot.set(root, (guarded = guardIgnored(provider, root, this.ignoredPaths)));
    return guarded;
  }

  /** Plugs in the local (onnx) model runner. */
  setLocalFactory(factory: LocalModelFactory): void {
    this.localFactory = factory;
  }

  /** Inference threads for local models under the current configuration. */
  threads(): number {
    return threadBudget(this.options.settings()?.threads, this.cpus);
  }

  /** Tells listeners (the index, for the embed role) that configuration changed. */
  configChanged(): void {
    this.emit('change');
  }

  resolve(role: ModelRole, scope: ResolveScope = {}): ModelProvider {
    const models = this.options.settings(scope.root) ?? {};
    const settings = models[role] ?? {};
    const kind = settings.provider ?? 'builtin';
    if (kind === 'builtin') return this.builtin;
    if (kind === 'onnx') return this.cached(['onnx', role, settings, models.threads, models.kvCacheMiB, models.kvCachePrompts, models.prefillChunk], () => this.local(role, settings, models));
    const remote = this.remoteSettings(role, kind, settings, models, scope);
    // Embeddings are of indexed chunks, and the index never reads ignored files.
    return role === 'embed' ? this.remote(remote) : this.guard(this.remote(remote), scope.root);
  }

  private remote(remote: RemoteSettings): ModelProvider {
    return this.cached([remote.kind, remote.url, remote.model, hashKey(remote.apiKey), remote.headers, remote.hosted, remote.fimTemplate, remote.contextLength, remote.maxTokens, remote.dimensions, remote.http.timeoutMs, remote.http.retries, proxyKey(remote.http.env), remote.http.caFile], () => {
      switch (remote.kind) {
        case 'llamacpp':
          return new LlamaCppProvider(remote);
        case 'ollama':
          return new OllamaProvider(remote);
        case 'openai':
          return new OpenAiProvider(remote);
        case 'anthropic':
          return new AnthropicProvider(remote);
      }
    });
  }

  /**
   * The embedding model for the index, or undefined while search is lexical: for builtin, and
   * for a server whose vector length is not known yet (see below; 'change' fires when it is).
   */
  embedder(scope: ResolveScope = {}): Embedder | undefined {
    const provider = this.resolve('embed', scope);
    if (provider.kind === 'builtin') return undefined;
    if (!provider.capabilities.embeddings || !provider.embedder) {
      throw new ModelError({
        kind: 'unsupported',
        provider: provider.kind,
        endpoint: provider.endpoint,
        message: 'has no embeddings API',
        fix: 'Choose llamacpp, ollama, openai or onnx for [models.embed], or builtin for lexical search only',
      });
    }
    let embedder = this.embedders.get(provider);
    if (!embedder) {
      embedder = provider.embedder();
      this.embedders.set(provider, embedder);
    }
    if (embedder.dimensions > 0) return embedder;
    // A server's vector length is known only from an answer, and the index needs it up front:
    // ask once in the background, and announce 'change' when it is known. Until then search is
    // lexical. A failed probe is retried after a minute.
    const probe = this.dimensionProbes.get(embedder);
    if (!probe || (probe.failedAt !== undefined && Date.now() - probe.failedAt > 60_000)) {
      const state: { failedAt?: number; error?: string } = {};
      this.dimensionProbes.set(embedder, state);
      const target = embedder;
      target.embed(['dimension probe'], AbortSignal.timeout(30_000)).then(
        () => {
          if (target.dimensions > 0) this.emit('change');
        },
        (error: unknown) => {
          state.failedAt = Date.now();
          state.error = (error as Error).message;
        },
      );
    }
    return undefined;
  }

  /** Why the embed role's server has not answered a dimension probe yet, if it failed. */
  embedderProblem(scope: ResolveScope = {}): string | undefined {
    const provider = this.resolve('embed', scope);
    const embedder = this.embedders.get(provider);
    return embedder ? this.dimensionProbes.get(embedder)?.error : undefined;
  }

  /**
   * One doctor result per distinct provider configured for any role of the given roots. `env` is
   * the editors' environment (API keys, proxies) when known; the daemon's own otherwise.
   */
  async health(roots: readonly (string | undefined)[], signal?: AbortSignal, env?: Env): Promise<Array<ProviderHealth & { name: string }>> {
    const results: Array<ProviderHealth & { name: string }> = [];
    const seen = new Map<string, string[]>();
    const probes: Array<{ name: string; provider: ModelProvider }> = [];
    for (const root of roots.length ? roots : [undefined]) {
      for (const role of modelRoles) {
        const name = `model ${role}${root ? ` (${root})` : ''}`;
        let provider: ModelProvider;
        try {
          provider = this.resolve(role, { ...(root ? { root } : {}), ...(env ? { env } : {}) });
        } catch (error) {
          const modelError = error instanceof ModelError ? error : undefined;
          results.push({ name, status: 'error', detail: (error as Error).message, ...(modelError ? { fix: modelError.fix } : {}) });
          continue;
        }
        if (provider.kind === 'builtin') {
          if (!root) results.push({ name: `model ${role}`, status: 'ok', detail: 'builtin (no model configured)' });
          continue;
        }
        const roles = seen.get(provider.id);
        if (roles) {
          roles.push(role);
          continue;
        }
        seen.set(provider.id, [role]);
        probes.push({ name, provider });
      }
    }
    const answers = await Promise.all(
      probes.map(async ({ name, provider }) => {
        const health = provider.check ? await provider.check(signal) : { status: 'ok' as const, detail: `${provider.kind} ${provider.endpoint}` };
        const roles = seen.get(provider.id) ?? [];
        return { ...health, name: roles.length > 1 ? name.replace(/^model \w+/, `model ${roles.join(', ')}`) : name };
      }),
    );
    return [...results, ...answers];
  }

  async dispose(): Promise<void> {
    const providers = [...this.cache.values()];
    this.cache.clear();
    await Promise.allSettled(providers.map((provider) => provider.dispose?.()));
    this.removeAllListeners();
  }

  private cached(key: unknown[], create: () => ModelProvider): ModelProvider {
    const id = JSON.stringify(key);
    let provider = this.cache.get(id);
    if (provider) {
      // Refresh its place in the LRU order.
      this.cache.delete(id);
      this.cache.set(id, provider);
      return provider;
    }
    provider = create();
    this.cache.set(id, provider);
    const limit = this.options.cacheSize ?? 16;
    while (this.cache.size > limit) {
      const [oldest, evicted] = this.cache.entries().next().value as [string, ModelProvider];
      this.cache.delete(oldest);
      void evicted.dispose?.().catch(() => undefined);
    }
    return provider;
  }

  private local(role: ModelRole, settings: RoleSettings, models: ModelsSettings): ModelProvider {
    const path = settings.path;
    if (!path) {
      throw new ModelError({ kind: 'misconfigured', provider: 'onnx', endpoint: '(no path)', message: `[models.${role}] names no model directory`, fix: `Set models.${role}.path to a directory with model.onnx, tokenizer.json and config.json` });
    }
    if (!this.localFactory) {
      throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: path, message: 'local models are not available in this build', fix: 'Use an HTTP provider for this role' });
    }
    const template = fimTemplate(settings.fimTemplate);
    return this.localFactory({
      role,
      path,
      model: settings.model ?? '',
      threads: threadBudget(models.threads, this.cpus),
      kvCacheBytes: (models.kvCacheMiB ?? 256) * 1024 * 1024,
      maxCachedPrompts: models.kvCachePrompts ?? 8,
      prefillChunk: models.prefillChunk ?? 256,
      contextLength: settings.contextLength ?? 8192,
      maxTokens: settings.maxTokens ?? 256,
      ...(template ? { fimTemplate: template } : {}),
    });
  }

  private remoteSettings(role: ModelRole, kind: RemoteSettings['kind'], settings: RoleSettings, models: ModelsSettings, scope: ResolveScope): RemoteSettings {
    const url = (settings.url ?? defaultUrls[kind]).trim();
    const fail = (message: string, fix: string): never => {
      throw new ModelError({ kind: 'misconfigured', provider: kind, endpoint: displayUrl(url), message, fix });
    };
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      fail(`[models.${role}] url is not a URL`, `Set models.${role}.url to e.g. ${defaultUrls[kind]}`);
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`[models.${role}] url must use http or https`, `Set models.${role}.url to e.g. ${defaultUrls[kind]}`);
    const model = settings.model ?? '';
    if (!model && kind !== 'llamacpp') fail(`[models.${role}] names no model`, `Set models.${role}.model to a model the server serves`);
    const env: Env = { ...(this.options.processEnv ?? process.env), ...(scope.env ?? {}) };
    // A default key variable applies only to the provider's own service, so a key for
    // api.openai.com is never sent to some other OpenAI-compatible server by accident.
    const keyEnv = settings.apiKeyEnv ?? (url === defaultUrls[kind] ? defaultKeyEnv[kind] : undefined);
    const apiKey = keyEnv ? env[keyEnv] : undefined;
    if (settings.apiKeyEnv && !apiKey) {
      fail(`the API key variable ${settings.apiKeyEnv} is not set`, `Set ${settings.apiKeyEnv} in the editor's environment (sent at initialize) or the daemon's, then retry`);
    }
    if (!settings.apiKeyEnv && keyEnv && !apiKey) fail(`no API key: ${keyEnv} is not set`, `Set ${keyEnv}, or name another variable in models.${role}.apiKeyEnv`);
    const template = fimTemplate(settings.fimTemplate);
    return {
      kind,
      url,
      model,
      ...(apiKey ? { apiKey } : {}),
      headers: settings.headers ?? {},
      hosted: settings.hosted ?? !isLoopbackUrl(url),
      contextLength: settings.contextLength ?? 8192,
      maxTokens: settings.maxTokens ?? 256,
      ...(template ? { fimTemplate: template } : {}),
      ...(settings.dimensions ? { dimensions: settings.dimensions } : {}),
      http: {
        provider: kind,
        timeoutMs: settings.timeoutMs ?? 30_000,
        retries: settings.retries ?? 2,
        env,
        ...(models.caFile ? { caFile: models.caFile } : {}),
      },
    };
  }
}

function fimTemplate(name: string | undefined): FimTemplate | undefined {
  return name && name !== 'native' && isFimTemplateName(name) ? fimTemplates[name] : undefined;
}

function hashKey(key: string | undefined): string {
  return key ? createHash('sha256').update(key).digest('hex') : '';
}

function proxyKey(env: Env): string {
  return [env.HTTPS_PROXY ?? env.https_proxy, env.HTTP_PROXY ?? env.http_proxy, env.NO_PROXY ?? env.no_proxy, env.NODE_EXTRA_CA_CERTS].join('|');
}
