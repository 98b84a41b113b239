// `builtin`: the provider that needs no weights and no network, and the default for every role.
// It generates nothing by itself: the rooms that build completion, next edit and apply register
// their deterministic engines here (see BuiltinEngines), and callers that resolve a role to
// `builtin` ask it for that engine. Search with `builtin` for `embed` is lexical only.
import { ModelError } from './errors.js';
import type { BuiltinEngines, ModelProvider, ProviderCapabilities } from './provider.js';

const noCapabilities: ProviderCapabilities = {
  fim: 'none',
  completion: false,
  chat: false,
  tools: false,
  streaming: false,
  embeddings: false,
  predictedOutputs: false,
  promptCaching: false,
  contextLength: 0,
  hosted: false,
};

export class BuiltinProvider implements ModelProvider {
  readonly kind = 'builtin' as const;
  readonly model = '';
  readonly endpoint = 'builtin:';
  readonly id = 'builtin';
  readonly capabilities = noCapabilities;
  private readonly engines = new Map<keyof BuiltinEngines, unknown>();

  /** Plugs in the engine for a role; returns a function that unplugs it. */
  register<K extends keyof BuiltinEngines>(role: K, engine: BuiltinEngines[K]): () => void {
    this.engines.set(role, engine);
    return () => {
      if (this.engines.get(role) === engine) this.engines.delete(role);
    };
  }

  has(role: string): boolean {
    return this.engines.has(role as keyof BuiltinEngines);
  }

  /** The engine registered for a role; a clear error when this build has none yet. */
  engine<K extends keyof BuiltinEngines>(role: K): BuiltinEngines[K] {
    if (!this.engines.has(role)) {
      throw new ModelError({
        kind: 'unsupported',
        provider: 'builtin',
        endpoint: 'builtin:',
        message: `has no engine for ${String(role)} in this version`,
        fix: `Configure a model for this role in [models.${String(role)}] (see docs/models.md)`,
      });
    }
    return this.engines.get(role) as BuiltinEngines[K];
  }
}
