// Local ONNX models as the daemon uses them: a causal LM (streamed generation, batched
// verification) and an embedding model (the Embedder contract). Each owns a worker thread, started
// on first use; the directory is checked up front so configuration errors surface immediately.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder } from '../embedder.js';
import { abortError, ModelError } from '../errors.js';
import { loadTokenizer, type ModelTokenizer } from '../tokenizer/index.js';
import type { CausalLmInfo, EncoderInfo, GenerateOptions, GenerateResult, Pooling, VerifyResult } from './engine.js';
import { ModelWorker } from './host.js';
import { configNumber, openModelDirectory, type ModelDirectory } from './model-dir.js';

export interface OnnxModelOptions {
  /** Inference threads (the thread budget; default 1). */
  threads?: number;
  /** The ONNX file inside the directory, when not one of the usual names. */
  file?: string;
}

export interface OnnxCausalLmOptions extends OnnxModelOptions {
  /** Bytes of KV state kept for recent prompts (default 256 MiB). */
  kvCacheBytes?: number;
  /** Most prompts whose KV state is kept (default 8). */
  maxCachedPrompts?: number;
  /** Prompt tokens per forward pass while prefilling (default 256). */
  prefillChunk?: number;
}

export interface GenerateCall extends Partial<GenerateOptions> {
  signal?: AbortSignal;
  /**
   * Adds the tokenizer's own special tokens (a BOS) to a text prompt. Default true; false for a
   * rendered chat template, which writes its special tokens itself (as apply_chat_template does).
   */
  addSpecialTokens?: boolean;
  /** Called with each piece of text as it is decoded. */
  onText?: (text: string, token: number) => void;
}

/** A causal language model (Optimum text-generation-with-past export) running in a worker. */
export class OnnxCausalLm {
  readonly model: ModelDirectory;
  /** The model's tokenizer, on the daemon thread, for counting tokens while building prompts. */
  readonly tokenizer: ModelTokenizer;
  private worker?: ModelWorker;
  private loading?: Promise<CausalLmInfo>;

  constructor(dir: string, private readonly options: OnnxCausalLmOptions = {}) {
    this.model = openModelDirectory(dir, options.file);
    this.tokenizer = loadTokenizer(this.model.tokenizerDir);
  }

  /** Context length from config.json (known before loading). */
  get contextLength(): number {
    return configNumber(this.model.config, 'max_position_embeddings', 'n_positions', 'seq_length') ?? 2048;
  }

  /** Starts the worker and loads the session (done by the first call otherwise). */
  load(): Promise<CausalLmInfo> {
    if (this.worker && !this.worker.alive) this.loading = undefined;
    if (!this.loading) {
      const worker = new ModelWorker(this.model.dir);
      this.worker = worker;
      const { threads = 1, kvCacheBytes, maxCachedPrompts, prefillChunk } = this.options;
      this.loading = worker.call({
        type: 'loadCausal',
        model: this.model,
        options: { threads, ...(kvCacheBytes !== undefined ? { kvCacheBytes } : {}), ...(maxCachedPrompts !== undefined ? { maxCachedPrompts } : {}), ...(prefillChunk !== undefined ? { prefillChunk } : {}) },
      });
      this.loading.catch(() => {
        this.loading = undefined;
        void worker.terminate();
      });
    }
    return this.loading;
  }

  private async ready(signal?: AbortSignal): Promise<ModelWorker> {
    await this.load();
    if (signal?.aborted) throw abortError(signal);
    return this.worker!;
  }

  /** Generates a continuation of `prompt` (text, or token ids used as they are). */
  async generate(prompt: string | number[], call: GenerateCall = {}): Promise<GenerateResult> {
    const worker = await this.ready(call.signal);
    const { signal, onText, addSpecialTokens, ...rest } = call;
    const options: GenerateOptions = { maxTokens: 256, ...rest };
    return worker.call({ type: 'generate', prompt, options, ...(addSpecialTokens === false ? { special: false } : {}) }, { ...(signal ? { signal } : {}), ...(onText ? { onText } : {}) });
  }

  /**
   * Scores `draft` after `context` in one forward pass (text is tokenized in the worker: the context
   * with the model's special tokens, the draft without). Returns the model's greedy token after the
   * context and after each draft token, and how many leading draft tokens it agrees with.
   */
  async verify(context: string | number[], draft: string | number[], options: { signal?: AbortSignal; reuseCache?: boolean } = {}): Promise<VerifyResult & { context: number[]; draft: number[] }> {
    const worker = await this.ready(options.signal);
    return worker.call({ type: 'verify', context, draft, reuse: options.reuseCache ?? true }, options.signal ? { signal: options.signal } : {});
  }

  /** Forgets every cached prompt (the next request prefills from scratch). */
  async clearCache(): Promise<void> {
    const worker = await this.ready();
    await worker.call({ type: 'clearCache' });
  }

  /** Prompts whose KV state is cached, and their bytes (zero before the model is loaded). */
  async cacheStats(): Promise<{ entries: number; bytes: number }> {
    if (!this.loading) return { entries: 0, bytes: 0 };
    const worker = await this.ready();
    return worker.call({ type: 'cacheStats' });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.loading = undefined;
    await worker?.terminate();
  }
}

export interface OnnxEmbedderOptions extends OnnxModelOptions {
  /** Default: the model's sentence-transformers pooling config, else mean pooling. */
  pooling?: Pooling;
  /** L2-normalise vectors (default: as the model's modules.json says, else true). */
  normalize?: boolean;
  /** Texts per forward pass (default 16). */
  batchSize?: number;
  /** Tokens per text; longer texts are cut (default: the model's maximum, at most 512). */
  maxTokens?: number;
}

/** Hash of what determines the vectors: configuration, tokenizer, weights' size and edges, options. */
function fingerprint(model: ModelDirectory, options: OnnxEmbedderOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.config));
  hash.update(readFileSync(join(model.tokenizerDir, 'tokenizer.json')));
  const size = statSync(model.modelPath).size;
  hash.update(String(size));
  const fd = openSync(model.modelPath, 'r');
  try {
    const window = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, window, 0, window.length, 0);
    hash.update(window);
    readSync(fd, window, 0, window.length, Math.max(0, size - window.length));
    hash.update(window);
  } finally {
    closeSync(fd);
  }
  hash.update(JSON.stringify({ pooling: options.pooling, normalize: options.normalize, maxTokens: options.maxTokens, file: options.file }));
  return hash.digest('hex').slice(0, 16);
}

class OnnxEmbedder implements Embedder {
  readonly modelId: string;
  private readonly model: ModelDirectory;
  private worker?: ModelWorker;
  private loading?: Promise<EncoderInfo>;
  private info?: EncoderInfo;

  constructor(dir: string, private readonly options: OnnxEmbedderOptions) {
    this.model = openModelDirectory(dir, options.file);
    if (this.model.config.is_decoder === true || String(this.model.config.architectures ?? '').includes('ForCausalLM')) {
      // The session's inputs would show it too, but saying so before loading is friendlier.
      throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: this.model.dir, message: 'this is a causal language model, not an embedding model', fix: 'For [models.embed] use a BERT-style encoder exported with --task feature-extraction' });
    }
    this.modelId = `onnx:${fingerprint(this.model, options)}`;
  }

  get dimensions(): number {
    return this.info?.dimensions ?? configNumber(this.model.config, 'hidden_size', 'dim', 'd_model') ?? 0;
  }

  load(): Promise<EncoderInfo> {
    if (this.worker && !this.worker.alive) this.loading = undefined;
    if (!this.loading) {
      const worker = new ModelWorker(this.model.dir);
      this.worker = worker;
      const { threads = 1, pooling, normalize, batchSize, maxTokens } = this.options;
      this.loading = worker.call({
        type: 'loadEncoder',
        model: this.model,
        options: { threads, ...(pooling ? { pooling } : {}), ...(normalize !== undefined ? { normalize } : {}), ...(batchSize ? { batchSize } : {}), ...(maxTokens ? { maxTokens } : {}) },
      });
      this.loading.then(
        (info) => (this.info = info),
        () => {
          this.loading = undefined;
          void worker.terminate();
        },
      );
    }
    return this.loading;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (signal?.aborted) throw abortError(signal);
    if (texts.length === 0) return [];
    await this.load();
    if (signal?.aborted) throw abortError(signal);
    return this.worker!.call({ type: 'embed', texts: [...texts] }, signal ? { signal } : {});
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.loading = undefined;
    await worker?.terminate();
  }
}

/**
 * An Embedder over a local embedding model directory (BERT-style encoder exported by Optimum with
 * --task feature-extraction, or a sentence-transformers export). The directory is checked now
 * (throws ModelError); the model loads in its worker on the first `embed` (or `load()`).
 */
export function createOnnxEmbedder(dir: string, options: OnnxEmbedderOptions = {}): Embedder & { load(): Promise<EncoderInfo> } {
  return new OnnxEmbedder(dir, options);
}
