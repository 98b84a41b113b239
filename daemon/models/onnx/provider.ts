// The `onnx` provider: a local model directory behind caret's provider interface. A causal LM
// serves completion roles (raw continuation, and fill-in-the-middle through the model's FIM
// markers); an encoder serves `embed`. Nothing leaves the machine.
import { ChatTemplate, readChatTemplate } from '../chat-template.js';
import type { Embedder } from '../embedder.js';
import { isAbortError, ModelError } from '../errors.js';
import { fitChat, fitInfill, keepEnd } from '../prompt-fit.js';
import { ToolCallParser } from '../tool-calls.js';
import { fimStops, fimTemplates, renderFimPrompt } from '../fim.js';
import type { LocalModelSettings } from '../registry.js';
import type {
  ChatRequest,
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
interface StreamSetup {
  prompt: string;
  stop: string[];
  /** False for a rendered chat template (it writes its special tokens itself). */
  addSpecialTokens?: boolean;
  /** Turns `<tool_call>` blocks into toolCall events (chat with tools). */
  toolCalls?: ToolCallParser;
}

function streamGeneration(lm: OnnxCausalLm, options: GenerationOptions, defaults: { maxTokens: number }, prepare: () => StreamSetup): GenerationStream {
  return {
    async *[Symbol.asyncIterator](): AsyncGenerator<GenerationEvent> {
      // Prompt rendering and fitting run when iteration starts, so their errors surface from the stream.
      const { prompt, stop, addSpecialTokens, toolCalls } = prepare();
      const emit = (text: string): GenerationEvent[] => (toolCalls ? toolCalls.push(text) : [{ type: 'text', text }]);
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
          ...(addSpecialTokens === false ? { addSpecialTokens } : {}),
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
          while (pieces.length > 0) yield* emit(pieces.shift()!);
          if (finished) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        const result = await run;
        while (pieces.length > 0) yield* emit(pieces.shift()!);
        if (toolCalls) yield* toolCalls.end();
        yield {
          type: 'done',
          finishReason: result.finishReason === 'cancelled' ? 'cancelled' : toolCalls && toolCalls.calls > 0 && result.finishReason === 'stop' ? 'toolCalls' : result.finishReason,
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
  private readonly chatTemplate?: ChatTemplate;
  private readonly release?: () => Promise<void>;
  /** Tokens the tokenizer adds to a text prompt by itself (a BOS, say). */
  private specialOverhead?: number;

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
      const chatSource = readChatTemplate(this.lm.model.tokenizerDir);
      if (chatSource) this.chatTemplate = new ChatTemplate(chatSource, this.lm.model.dir);
      this.capabilities = {
        ...base,
        chat: this.chatTemplate !== undefined,
        tools: this.chatTemplate?.supportsTools ?? false,
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
    const template = this.fimTemplate;
    return streamGeneration(this.lm, request, this.settings, () => {
      const budget = this.promptBudget(request);
      const count = (text: string) => this.countPromptTokens(text);
      let fitted: InfillRequest;
      try {
        fitted = fitInfill(request, budget, (candidate) => renderFimPrompt(template, candidate), count).request;
      } catch (error) {
        throw this.tooLong(`the fill-in-the-middle markers and file name alone exceed the ${budget}-token prompt budget (${(error as Error).message})`);
      }
      return { prompt: renderFimPrompt(template, fitted), stop: fimStops(template, request.stop) };
    });
  }

  complete(request: CompletionRequest): GenerationStream {
    if (!this.lm) throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: this.endpoint, message: 'an embedding model cannot generate text', fix: 'Point this role at a causal language model directory' });
    return streamGeneration(this.lm, request, this.settings, () => {
      // A raw prompt ends where the model continues: an over-long one loses its start.
      const budget = this.promptBudget(request);
      const prompt = keepEnd(request.prompt, budget, (text) => this.countPromptTokens(text));
      if (!prompt && request.prompt) throw this.tooLong(`not even one line of the prompt fits the ${budget}-token budget`);
      return { prompt, stop: request.stop ?? [] };
    });
  }

  /** Chat through the model's own chat template (tokenizer_config.json); tools when the template has them. */
  chat(request: ChatRequest): GenerationStream {
    const lm = this.lm;
    const template = this.chatTemplate;
    if (!lm || !template) {
      throw new ModelError({
        kind: 'unsupported',
        provider: 'onnx',
        endpoint: this.endpoint,
        message: lm ? 'this model has no chat template (tokenizer_config.json has no chat_template)' : 'an embedding model cannot chat',
        fix: 'Use an instruction-tuned model directory that ships a chat template (e.g. a Qwen2.5-Coder-Instruct export), or an HTTP provider for this role',
      });
    }
    return streamGeneration(lm, request, this.settings, () => {
      const budget = this.promptBudget(request);
      const render = (messages: readonly ChatRequest['messages'][number][]) => template.render(messages, request.tools);
      const fitted = fitChat(request.messages, budget, render, (text) => lm.tokenizer.countTokens(text));
      if (!fitted) throw this.tooLong(`the last user message (with the system message) does not fit the ${budget}-token prompt budget`);
      return {
        prompt: render(fitted.messages),
        stop: [...(request.stop ?? []), ...template.stops],
        addSpecialTokens: false,
        ...(request.tools?.length && template.supportsTools ? { toolCalls: new ToolCallParser() } : {}),
      };
    });
  }

  /**
   * Prompt tokens allowed: the context length less the tokens to generate, the budget completion
   * renders its prompts into (at least half the context stays for the prompt).
   */
  private promptBudget(request: GenerationOptions): number {
    const context = this.capabilities.contextLength;
    const generate = Math.min(request.maxTokens ?? this.settings.maxTokens, Math.floor(context / 2));
    return context - generate;
  }

  /** Tokens of a text prompt as the worker will encode it (special tokens included). */
  private countPromptTokens(text: string): number {
    const tokenizer = this.lm!.tokenizer;
    this.specialOverhead ??= tokenizer.encode('').length;
    return tokenizer.countTokens(text) + this.specialOverhead;
  }

  private tooLong(message: string): ModelError {
    return new ModelError({ kind: 'rejected', provider: 'onnx', endpoint: this.endpoint, message, fix: `Raise contextLength for this role (the model allows ${this.lm?.contextLength ?? 'more'}), lower maxTokens, or send less` });
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
      return { status: 'ok', detail: `causal LM at ${this.endpoint} loads (${info.numLayers} layers, ${info.vocabSize} tokens, ${info.threads} thread${info.threads === 1 ? '' : 's'}${this.fimTemplate ? ', FIM' : ''}${this.chatTemplate ? ', chat' : ''}; prompt cache ${Math.round(info.kvCacheBytes / 1048576)} MiB, ${info.maxCachedPrompts} prompts; prefill ${info.prefillChunk} tokens)` };
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
