// The `onnx` provider: a local model directory behind caret's provider interface. A causal LM
// serves completion roles (raw continuation, and fill-in-the-middle through the model's FIM
// markers); an encoder serves `embed`. Nothing leaves the machine.
import type { Embedder } from '../embedder.js';
import { isAbortError, ModelError } from '../errors.js';
import { fimStops, fimTemplates, renderFimPrompt } from '../fim.js';
import type { LocalModelSettings } from '../registry.js';
import type {
  CompletionRequest,
  FimTemplate,
  GenerationEvent,
  GenerationOptions,
  GenerationStream,
  InfillRequest,
  ModelProvider,
  ProviderCapabilities,
  ProviderHealth,
  Tokenizer,
} from '../provider.js';
import { createOnnxEmbedder, OnnxCausalLm, type OnnxCausalLmOptions } from './models.js';

/** FIM markers a tokenizer carries as special tokens, when they match a known family. */
export function detectFimTemplate(tokenizer: Pick<Tokenizer, 'encode'> & { tokenToId(token: string): number | undefined }): FimTemplate | undefined {
  for (const template of [fimTemplates.qwen, fimTemplates.starcoder]) {
    if (tokenizer.tokenToId(template.prefix) !== undefined && tokenizer.tokenToId(template.suffix) !== undefined && tokenizer.tokenToId(template.middle) !== undefined) return template;
  }
  return undefined;
}

/** Runs `generate` and turns its callbacks into a stream; leaving the loop early stops inference. */
function streamGeneration(lm: OnnxCausalLm, prompt: string, options: GenerationOptions, defaults: { maxTokens: number }, stop: string[]): GenerationStream {
  return {
    async *[Symbol.asyncIterator](): AsyncGenerator<GenerationEvent> {
      const controller = new AbortController();
      const outer = options.signal;
      const onOuterAbort = () => controller.abort(outer?.reason);
      if (outer?.aborted) controller.abort(outer.reason);
      else outer?.addEventListener('abort', onOuterAbort, { once: true });
      const pieces: string[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const run = lm
        .generate(prompt, {
          maxTokens: options.maxTokens ?? defaults.maxTokens,
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { topP: options.topP } : {}),
          stop,
          signal: controller.signal,
          onText: (text) => {
            pieces.push(text);
            wake?.();
          },
        })
        .finally(() => {
          finished = true;
          wake?.();
        });
      run.catch(() => undefined); // observed below
      try {
        while (true) {
          while (pieces.length > 0) yield { type: 'text', text: pieces.shift()! };
          if (finished) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        const result = await run;
        while (pieces.length > 0) yield { type: 'text', text: pieces.shift()! };
        yield {
          type: 'done',
          finishReason: result.finishReason === 'cancelled' ? 'cancelled' : result.finishReason,
          usage: { promptTokens: result.promptTokens, completionTokens: result.tokens.length, cachedPromptTokens: result.cachedPromptTokens },
        };
      } finally {
        outer?.removeEventListener('abort', onOuterAbort);
        if (!finished) controller.abort();
      }
    },
  };
}

/**
 * Causal LMs shared by every provider (role) that names the same directory and thread budget, so
 * completion and next edit on one model load it once and share its prompt cache.
 */
const sharedModels = new Map<string, { lm: OnnxCausalLm; users: number }>();

function acquireCausalLm(path: string, options: Required<Pick<OnnxCausalLmOptions, 'threads' | 'kvCacheBytes' | 'maxCachedPrompts' | 'prefillChunk'>>): { lm: OnnxCausalLm; release: () => Promise<void> } {
  const key = JSON.stringify([path, options.threads, options.kvCacheBytes, options.maxCachedPrompts, options.prefillChunk]);
  let shared = sharedModels.get(key);
  if (!shared) {
    shared = { lm: new OnnxCausalLm(path, options), users: 0 };
    sharedModels.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    lm: entry.lm,
    release: async () => {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      if (sharedModels.get(key) === entry) sharedModels.delete(key);
      await entry.lm.dispose();
    },
  };
}

export class OnnxProvider implements ModelProvider {
  readonly kind = 'onnx' as const;
  readonly model: string;
  readonly endpoint: string;
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  readonly tokenizer?: Tokenizer;
  private readonly lm?: OnnxCausalLm;
  private readonly embedding?: Embedder & { load(): Promise<unknown> };
  private readonly fimTemplate?: FimTemplate;
  private readonly release?: () => Promise<void>;

  constructor(private readonly settings: LocalModelSettings) {
    const base = {
      tools: false,
      chat: false,
      predictedOutputs: false,
      hosted: false,
    };
    if (settings.role === 'embed') {
      this.embedding = createOnnxEmbedder(settings.path, { threads: settings.threads });
      this.endpoint = settings.path;
      this.capabilities = { ...base, fim: 'none', completion: false, streaming: false, embeddings: true, promptCaching: false, contextLength: 512 };
    } else {
      const { lm, release } = acquireCausalLm(settings.path, { threads: settings.threads, kvCacheBytes: settings.kvCacheBytes, maxCachedPrompts: settings.maxCachedPrompts, prefillChunk: settings.prefillChunk });
      this.lm = lm;
      this.release = release;
      this.tokenizer = this.lm.tokenizer;
      this.endpoint = this.lm.model.dir;
      this.fimTemplate = settings.fimTemplate ?? detectFimTemplate(this.lm.tokenizer);
      this.capabilities = {
        ...base,
        fim: this.fimTemplate ? 'template' : 'none',
        ...(this.fimTemplate ? { fimTemplate: this.fimTemplate } : {}),
        completion: true,
        streaming: true,
        embeddings: false,
        promptCaching: true,
        contextLength: Math.min(settings.contextLength, this.lm.contextLength),
      };
    }
    this.model = settings.model || this.endpoint.split('/').filter(Boolean).pop() || this.endpoint;
    this.id = `onnx:${settings.role === 'embed' ? 'embed' : 'lm'}:${this.endpoint}`;
  }

  infill(request: InfillRequest): GenerationStream {
    if (!this.lm || !this.fimTemplate) {
      throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: this.endpoint, message: 'this model has no fill-in-the-middle tokens', fix: 'Set fimTemplate for this role (qwen, starcoder, codellama, deepseek, codestral) or use a FIM-trained code model' });
    }
    const prompt = renderFimPrompt(this.fimTemplate, request);
    return streamGeneration(this.lm, prompt, request, this.settings, fimStops(this.fimTemplate, request.stop));
  }

  complete(request: CompletionRequest): GenerationStream {
    if (!this.lm) throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: this.endpoint, message: 'an embedding model cannot generate text', fix: 'Point this role at a causal language model directory' });
    return streamGeneration(this.lm, request.prompt, request, this.settings, request.stop ?? []);
  }

  embedder(): Embedder {
    if (!this.embedding) throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: this.endpoint, message: 'a causal language model is configured, not an embedding model', fix: 'Point [models.embed] at an encoder exported with --task feature-extraction' });
    return this.embedding;
  }

  /** The causal LM itself, for speculative edits (batched verification) and diagnostics. */
  causalLm(): OnnxCausalLm | undefined {
    return this.lm;
  }

  async check(signal?: AbortSignal): Promise<ProviderHealth> {
    try {
      if (this.embedding) {
        await this.embedding.load();
        return { status: 'ok', detail: `embedding model at ${this.endpoint} loads (${this.embedding.dimensions} dimensions)` };
      }
      const info = await this.lm!.load();
      if (signal?.aborted) return { status: 'warn', detail: 'check cancelled' };
      return { status: 'ok', detail: `causal LM at ${this.endpoint} loads (${info.numLayers} layers, ${info.vocabSize} tokens, ${info.threads} thread${info.threads === 1 ? '' : 's'}${this.fimTemplate ? ', FIM' : ''}; prompt cache ${Math.round(info.kvCacheBytes / 1048576)} MiB, ${info.maxCachedPrompts} prompts; prefill ${info.prefillChunk} tokens)` };
    } catch (error) {
      if (isAbortError(error)) return { status: 'warn', detail: 'check cancelled' };
      const fix = error instanceof ModelError ? error.fix : 'See the daemon log';
      return { status: 'error', detail: (error as Error).message, fix };
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.release?.(), this.embedding?.dispose?.()]);
  }
}

/** The factory the model registry calls for `provider = "onnx"` (ModelRegistry.setLocalFactory). */
export function createOnnxProvider(settings: LocalModelSettings): ModelProvider {
  return new OnnxProvider(settings);
}
