// The inference engines, run inside the model worker thread: a causal LM with past_key_values
// (prefix KV-cache reuse, decoding, batched verification) and a BERT-style encoder (embeddings).
// Both drive onnxruntime-node sessions with the configured thread budget.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { loadTokenizer, type ModelTokenizer, StreamingDetokenizer } from '../tokenizer/index.js';
import { PrefixCache, sliceSequence } from './kv-cache.js';
import { configNumber, eosTokenIds, type ModelDirectory } from './model-dir.js';
import { sampleToken, seededUniform, topTwo, type SamplingOptions } from './sampling.js';
import { StopMatcher } from './stop.js';

export interface EngineOptions {
  /** Intra-op threads for onnxruntime (the thread budget). */
  threads: number;
  /** Bytes of KV state kept for recent prompts (default 256 MiB). */
  kvCacheBytes?: number;
  /** Most prompts kept (default 8). */
  maxCachedPrompts?: number;
  /** Prompt tokens per forward pass while prefilling (default 256); bounds memory, allows cancellation. */
  prefillChunk?: number;
}

/** Returns true once the request was cancelled; checked between forward passes. */
export type CancelCheck = () => boolean;

export function abortedError(): Error {
  return new DOMException('The operation was aborted', 'AbortError');
}

async function createSession(model: ModelDirectory, threads: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model.modelPath, {
      intraOpNumThreads: Math.max(1, threads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw new ModelError({
      kind: 'misconfigured',
      provider: 'onnx',
      endpoint: model.dir,
      message: `onnxruntime could not load ${model.modelPath}: ${(error as Error).message}`,
      fix: 'Check that the export finished and that model.onnx_data (external weights) sits next to model.onnx',
      cause: error,
    });
  }
}

function unsupported(model: ModelDirectory, message: string, fix: string): never {
  throw new ModelError({ kind: 'unsupported', provider: 'onnx', endpoint: model.dir, message, fix });
}

/** Logits as float32 whatever the model's output type (fp16 exports return float16 bits). */
function toFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const bits = tensor.data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) {
      const h = bits[i]!;
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >> 10) & 0x1f;
      const fraction = h & 0x3ff;
      out[i] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024) : exponent === 31 ? (fraction ? NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
    }
    return out;
  }
  throw new Error(`unsupported logits type ${tensor.type}`);
}

interface KvState {
  /** Positions held. */
  length: number;
  /** One tensor per past input, in `pastNames` order; [1, kvHeads, length, headDim]. */
  tensors: ort.Tensor[];
}

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  stop?: string[];
  /** Reuse (and update) the prefix KV cache. Default true. */
  reuseCache?: boolean;
  /** Seed for sampling; default random. */
  seed?: number;
  /** Also return each step's top-two logit margin (for tests and diagnostics). */
  margins?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerateResult {
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  cachedPromptTokens: number;
  margins?: number[];
  /** Milliseconds from the call to the first token's logits. */
  timeToFirstTokenMs: number;
}

export interface VerifyResult {
  /** The model's greedy choice after the context and after each draft token (draft.length + 1 entries). */
  predicted: number[];
  /** Top-one minus top-two logit at each of those positions. */
  margins: number[];
  /** Leading draft tokens that agree with the model's greedy choices. */
  accepted: number;
  cachedPromptTokens: number;
}

export interface CausalLmInfo {
  kind: 'causal';
  numLayers: number;
  vocabSize: number;
  contextLength: number;
  eosTokenIds: number[];
  /** The runner's settings in force (config: models.threads, kvCacheMiB, kvCachePrompts, prefillChunk). */
  threads: number;
  kvCacheBytes: number;
  maxCachedPrompts: number;
  prefillChunk: number;
}

export class CausalLm {
  private readonly cache: PrefixCache<KvState>;
  private readonly pastNames: string[];
  private readonly presentNames: string[];
  private readonly kvHeads: number;
  private readonly headDim: number;
  private readonly kvType: 'float32' | 'float16';
  private readonly hasPositionIds: boolean;
  private readonly hasUseCacheBranch: boolean;
  private readonly prefillChunk: number;
  readonly info: CausalLmInfo;

  private constructor(private readonly model: ModelDirectory, private readonly session: ort.InferenceSession, readonly tokenizer: ModelTokenizer, options: EngineOptions) {
    const pasts = session.inputNames.filter((name) => /^past_key_values\.\d+\.(key|value)$/.test(name));
    if (!session.inputNames.includes('input_ids') || !session.outputNames.includes('logits')) {
      unsupported(model, 'the ONNX model has no input_ids input or logits output, so it is not a causal language model', 'Export with --task text-generation-with-past');
    }
    if (pasts.length === 0) {
      unsupported(model, 'the model was exported without past_key_values, so it cannot cache prompts', 'Re-export with --task text-generation-with-past');
    }
    this.pastNames = pasts;
    this.presentNames = pasts.map((name) => name.replace(/^past_key_values\./, 'present.'));
    const missing = this.presentNames.find((name) => !session.outputNames.includes(name));
    if (missing) unsupported(model, `the model has ${pasts[0]} but no ${missing} output`, 'Re-export with --task text-generation-with-past');
    const meta = session.inputMetadata.find((m) => m.name === pasts[0]);
    const shape = meta && meta.isTensor ? meta.shape : [];
    const config = model.config;
    const heads = configNumber(config, 'num_attention_heads', 'n_head') ?? 1;
    this.kvHeads = typeof shape[1] === 'number' ? shape[1] : (configNumber(config, 'num_key_value_heads', 'n_head_kv') ?? heads);
    this.headDim = typeof shape[3] === 'number' ? shape[3] : (configNumber(config, 'head_dim') ?? (configNumber(config, 'hidden_size', 'n_embd') ?? 0) / heads);
    this.kvType = meta && meta.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
    this.hasPositionIds = session.inputNames.includes('position_ids');
    this.hasUseCacheBranch = session.inputNames.includes('use_cache_branch');
    this.prefillChunk = Math.max(1, options.prefillChunk ?? 256);
    const kvCacheBytes = Math.max(0, options.kvCacheBytes ?? 256 * 1024 * 1024);
    const maxCachedPrompts = Math.max(1, options.maxCachedPrompts ?? 8);
    this.cache = new PrefixCache(kvCacheBytes, maxCachedPrompts);
    this.info = {
      kind: 'causal',
      numLayers: pasts.length / 2,
      vocabSize: configNumber(config, 'vocab_size') ?? tokenizer.vocabSize,
      contextLength: configNumber(config, 'max_position_embeddings', 'n_positions', 'seq_length') ?? 2048,
      eosTokenIds: eosTokenIds(model),
      threads: Math.max(1, options.threads),
      kvCacheBytes,
      maxCachedPrompts,
      prefillChunk: this.prefillChunk,
    };
  }

  static async load(model: ModelDirectory, options: EngineOptions): Promise<CausalLm> {
    const tokenizer = loadTokenizer(model.tokenizerDir);
    const session = await createSession(model, options.threads);
    try {
      return new CausalLm(model, session, tokenizer, options);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async release(): Promise<void> {
    this.cache.clear();
    await this.session.release();
  }

  private emptyState(): KvState {
    const dims = [1, this.kvHeads, 0, this.headDim];
    const empty = () => (this.kvType === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims));
    return { length: 0, tensors: this.pastNames.map(empty) };
  }

  private truncate(state: KvState, length: number): KvState {
    if (length === state.length) return state;
    return {
      length,
      tensors: state.tensors.map((t) => {
        const data = sliceSequence(t.data as Float32Array | Uint16Array, t.dims, length);
        return new ort.Tensor(t.type as 'float32', data as Float32Array, [t.dims[0]!, t.dims[1]!, length, t.dims[3]!]);
      }),
    };
  }

  /** One forward pass over `tokens` after `past`: logits for every new position and the grown KV state. */
  private async forward(tokens: readonly number[], past: KvState): Promise<{ logits: Float32Array; present: KvState }> {
    const n = tokens.length;
    const total = past.length + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(past.length + i)), [1, n]);
    if (this.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [past.length > 0], [1]);
    this.pastNames.forEach((name, i) => (feeds[name] = past.tensors[i]!));
    const out = await this.session.run(feeds);
    const logits = toFloat32(out.logits as ort.Tensor);
    return { logits, present: { length: total, tensors: this.presentNames.map((name) => out[name] as ort.Tensor) } };
  }

  private stateBytes(state: KvState): number {
    return state.tensors.reduce((sum, t) => sum + (t.data as Float32Array).byteLength, 0);
  }

  /** KV state for tokens[0..upTo): the longest cached prefix, then chunked forward passes for the rest. */
  private async extend(tokens: readonly number[], upTo: number, reuse: boolean, cancelled: CancelCheck): Promise<{ state: KvState; cached: number }> {
    let state = this.emptyState();
    let cached = 0;
    if (reuse && upTo > 0) {
      const hit = this.cache.lookup(tokens.slice(0, upTo));
      if (hit) {
        cached = Math.min(hit.length, upTo);
        state = this.truncate(hit.entry.state, cached);
      }
    }
    for (let start = cached; start < upTo; start += this.prefillChunk) {
      if (cancelled()) throw abortedError();
      state = (await this.forward(tokens.slice(start, Math.min(upTo, start + this.prefillChunk)), state)).present;
    }
    return { state, cached };
  }

  private remember(tokens: readonly number[], state: KvState): void {
    this.cache.store({ tokens: tokens.slice(0, state.length), state, bytes: this.stateBytes(state) });
  }

  async generate(prompt: readonly number[], options: GenerateOptions, onText: (text: string, token: number) => void, cancelled: CancelCheck): Promise<GenerateResult> {
    const started = performance.now();
    if (prompt.length === 0) throw new ModelError({ kind: 'rejected', provider: 'onnx', endpoint: this.model.dir, message: 'the prompt is empty', fix: 'Send at least one token of prompt' });
    const reuse = options.reuseCache ?? true;
    const room = this.info.contextLength - prompt.length;
    if (room <= 0) {
      throw new ModelError({ kind: 'rejected', provider: 'onnx', endpoint: this.model.dir, message: `the prompt has ${prompt.length} tokens but the model's context is ${this.info.contextLength}`, fix: 'Lower the prompt budget (context length) for this role' });
    }
    const { state: prefix, cached } = await this.extend(prompt, prompt.length - 1, reuse, cancelled);
    if (cancelled()) throw abortedError();
    let step = await this.forward([prompt[prompt.length - 1]!], prefix);
    const timeToFirstTokenMs = performance.now() - started;
    const sequence = [...prompt];
    const generated: number[] = [];
    const margins: number[] = [];
    const detokenizer = new StreamingDetokenizer(this.tokenizer);
    const stops = new StopMatcher(options.stop ?? []);
    const random = seededUniform(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const eos = new Set(this.info.eosTokenIds);
    let text = '';
    let stoppedBySequence = false;
    let finishReason: FinishReason = 'length';
    const limit = Math.min(options.maxTokens, room);
    try {
      while (generated.length < limit) {
        const logits = step.logits;
        if (options.margins) margins.push(topTwo(logits).margin);
        const token = sampleToken(logits, options, random);
        if (eos.has(token)) {
          finishReason = 'stop';
          break;
        }
        generated.push(token);
        sequence.push(token);
        const piece = stops.push(detokenizer.push(token));
        if (piece.text) {
          text += piece.text;
          onText(piece.text, token);
        }
        if (piece.stopped) {
          finishReason = 'stop';
          stoppedBySequence = true;
          break;
        }
        if (generated.length >= limit) break;
        if (cancelled()) {
          finishReason = 'cancelled';
          break;
        }
        step = await this.forward([token], step.present);
      }
      if (!stoppedBySequence) {
        const rest = stops.push(detokenizer.flush());
        const tail = rest.stopped ? rest.text : rest.text + stops.flush();
        if (tail) {
          text += tail;
          onText(tail, generated[generated.length - 1] ?? -1);
        }
      }
    } finally {
      if (reuse) this.remember(sequence, step.present);
    }
    return {
      tokens: generated,
      text,
      finishReason,
      promptTokens: prompt.length,
      cachedPromptTokens: cached,
      timeToFirstTokenMs,
      ...(options.margins ? { margins } : {}),
    };
  }

  /**
   * Scores a draft continuation in one forward pass: the greedy choice after the context and after
   * each draft token. Speculative edits accept the draft up to the first disagreement.
   */
  async verify(context: readonly number[], draft: readonly number[], reuse: boolean, cancelled: CancelCheck): Promise<VerifyResult> {
    if (context.length === 0) throw new ModelError({ kind: 'rejected', provider: 'onnx', endpoint: this.model.dir, message: 'verification needs at least one context token', fix: 'Send the prompt as context' });
    if (context.length + draft.length > this.info.contextLength) {
      throw new ModelError({ kind: 'rejected', provider: 'onnx', endpoint: this.model.dir, message: `context and draft exceed the model's ${this.info.contextLength} tokens`, fix: 'Verify a shorter draft' });
    }
    const all = [...context, ...draft];
    const { state, cached } = await this.extend(all, context.length - 1, reuse, cancelled);
    if (cancelled()) throw abortedError();
    const pass = await this.forward(all.slice(context.length - 1), state);
    const vocab = pass.logits.length / (draft.length + 1);
    const predicted: number[] = [];
    const margins: number[] = [];
    for (let row = 0; row <= draft.length; row++) {
      const { token, margin } = topTwo(pass.logits.subarray(row * vocab, (row + 1) * vocab));
      predicted.push(token);
      margins.push(margin);
    }
    let accepted = 0;
    while (accepted < draft.length && predicted[accepted] === draft[accepted]) accepted++;
    if (reuse) this.remember(all, pass.present);
    return { predicted, margins, accepted, cachedPromptTokens: cached };
  }

  clearCache(): void {
    this.cache.clear();
  }

  cacheStats(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.bytes };
  }
}

export type Pooling = 'mean' | 'cls';

export interface EncoderOptions {
  threads: number;
  /** Default: from sentence-transformers' 1_Pooling/config.json, else mean. */
  pooling?: Pooling;
  /** L2-normalise vectors (default true). */
  normalize?: boolean;
  /** Texts per forward pass (default 16). */
  batchSize?: number;
  /** Tokens per text; longer texts are truncated (default: the model's maximum, at most 512). */
  maxTokens?: number;
}

export interface EncoderInfo {
  kind: 'encoder';
  dimensions: number;
  pooling: Pooling;
  normalize: boolean;
  maxTokens: number;
}

function readOptionalJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export class Encoder {
  readonly info: EncoderInfo;
  private readonly batchSize: number;
  private readonly padId: number;
  private readonly outputName: string;
  private readonly pooledOutput: boolean;

  private constructor(model: ModelDirectory, private readonly session: ort.InferenceSession, readonly tokenizer: ModelTokenizer, options: EncoderOptions) {
    const inputs = session.inputNames;
    if (!inputs.includes('input_ids') || !inputs.includes('attention_mask')) {
      unsupported(model, 'the ONNX model lacks input_ids or attention_mask, so it is not a text encoder', 'Export an embedding model with --task feature-extraction');
    }
    if (inputs.some((name) => name.startsWith('past_key_values.'))) {
      unsupported(model, 'this is a causal language model, not an embedding model', 'Use it for completion roles; for [models.embed] export a BERT-style encoder with --task feature-extraction');
    }
    this.pooledOutput = session.outputNames.includes('sentence_embedding');
    this.outputName = this.pooledOutput ? 'sentence_embedding' : session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : (session.outputNames[0] ?? 'last_hidden_state');
    const pooling = readOptionalJson(join(model.tokenizerDir, '1_Pooling', 'config.json'));
    const modules = readOptionalJson(join(model.tokenizerDir, 'modules.json'));
    const hasNormalizeModule = Array.isArray(modules) && (modules as Array<{ type?: string }>).some((m) => String(m.type ?? '').endsWith('Normalize'));
    const config = model.config;
    const meta = session.outputMetadata.find((m) => m.name === this.outputName);
    const lastDim = meta && meta.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    this.info = {
      kind: 'encoder',
      dimensions: typeof lastDim === 'number' ? lastDim : (configNumber(config, 'hidden_size', 'dim', 'd_model') ?? 0),
      pooling: options.pooling ?? (pooling?.pooling_mode_cls_token === true ? 'cls' : 'mean'),
      normalize: options.normalize ?? (modules ? hasNormalizeModule : true),
      maxTokens: Math.min(options.maxTokens ?? 512, configNumber(config, 'max_position_embeddings') ?? 512),
    };
    this.batchSize = Math.max(1, options.batchSize ?? 16);
    this.padId = configNumber(config, 'pad_token_id') ?? 0;
  }

  static async load(model: ModelDirectory, options: EncoderOptions): Promise<Encoder> {
    const tokenizer = loadTokenizer(model.tokenizerDir);
    const session = await createSession(model, options.threads);
    try {
      return new Encoder(model, session, tokenizer, options);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private encodeText(text: string): number[] {
    const ids = this.tokenizer.encode(text);
    const max = this.info.maxTokens;
    // Keep the closing special token ([SEP]) when truncating, as the tokenizers library does.
    return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]!];
  }

  async embed(texts: readonly string[], cancelled: CancelCheck): Promise<Float32Array[]> {
    const encoded = texts.map((text, index) => ({ index, ids: this.encodeText(text) }));
    // Similar lengths together, so batches carry little padding.
    const order = [...encoded].sort((a, b) => a.ids.length - b.ids.length);
    const vectors: Float32Array[] = new Array(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      if (cancelled()) throw abortedError();
      const batch = order.slice(start, start + this.batchSize);
      const width = Math.max(1, ...batch.map((item) => item.ids.length));
      const ids = new BigInt64Array(batch.length * width).fill(BigInt(this.padId));
      const mask = new BigInt64Array(batch.length * width);
      batch.forEach((item, row) => {
        item.ids.forEach((id, col) => {
          ids[row * width + col] = BigInt(id);
          mask[row * width + col] = 1n;
        });
      });
      const dims = [batch.length, width];
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
      if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), dims);
      const out = await this.session.run(feeds);
      const hidden = toFloat32(out[this.outputName] as ort.Tensor);
      const size = this.info.dimensions;
      batch.forEach((item, row) => {
        const vector = new Float32Array(size);
        if (this.pooledOutput) vector.set(hidden.subarray(row * size, (row + 1) * size));
        else if (this.info.pooling === 'cls') vector.set(hidden.subarray(row * width * size, row * width * size + size));
        else {
          const count = item.ids.length;
          for (let col = 0; col < count; col++) {
            const offset = (row * width + col) * size;
            for (let d = 0; d < size; d++) vector[d]! += hidden[offset + d]!;
          }
          for (let d = 0; d < size; d++) vector[d]! /= Math.max(1, count);
        }
        if (this.info.normalize) {
          let norm = 0;
          for (let d = 0; d < size; d++) norm += vector[d]! * vector[d]!;
          norm = Math.sqrt(norm) || 1;
          for (let d = 0; d < size; d++) vector[d]! /= norm;
        }
        vectors[item.index] = vector;
      });
    }
    return vectors;
  }
}
