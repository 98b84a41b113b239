// The provider contract: one interface every model back end implements (builtin, llamacpp,
// ollama, openai, anthropic, onnx), and the per-role selection the rest of caret codes against.
//
// A provider says what it can do through `capabilities`; callers check a flag before calling the
// matching method (an absent method means the capability is absent). Generation is streamed as an
// async iterable of events; every call takes an AbortSignal that stops the HTTP request or the
// inference loop, and breaking out of the iteration early stops it as well.
import type { Embedder } from './embedder.js';

/** What a model is used for; each role is configured separately (`[models.<role>]`). */
export type ModelRole = 'completion' | 'nextEdit' | 'apply' | 'chat' | 'embed';
export const modelRoles: readonly ModelRole[] = ['completion', 'nextEdit', 'apply', 'chat', 'embed'];

/** The back ends caret knows. */
export type ProviderKind = 'builtin' | 'llamacpp' | 'ollama' | 'openai' | 'anthropic' | 'onnx';
export const providerKinds: readonly ProviderKind[] = ['builtin', 'llamacpp', 'ollama', 'openai', 'anthropic', 'onnx'];

/**
 * Fill-in-the-middle prompt markers for models trained with them (StarCoder, Qwen2.5-Coder,
 * CodeLlama, DeepSeek-Coder). Used when a provider has no native infill endpoint but can complete
 * a raw prompt: prompt = [files] + prefix + <prefix> + suffix + <suffix> + middle (PSM order).
 */
export interface FimTemplate {
  /** Marker before the code before the cursor, e.g. `<|fim_prefix|>`. */
  prefix: string;
  /** Marker before the code after the cursor, e.g. `<|fim_suffix|>`. */
  suffix: string;
  /** Marker after which the model writes the middle, e.g. `<|fim_middle|>`. */
  middle: string;
  /** Marker that starts a context file, followed by its path and a newline (`<|file_sep|>`). */
  fileSeparator?: string;
  /** Generation stops at these (end-of-middle markers). */
  stop?: string[];
}

/** How a provider does fill-in-the-middle. */
export type FimSupport =
  /** A dedicated endpoint or parameter (llama.cpp /infill, OpenAI-style `suffix`, Ollama `suffix`). */
  | 'native'
  /** caret renders `capabilities.fimTemplate` into a raw prompt. */
  | 'template'
  | 'none';

export interface ProviderCapabilities {
  fim: FimSupport;
  /** Set when `fim` is 'template' (and for information when known otherwise). */
  fimTemplate?: FimTemplate;
  /** Raw prompt continuation (`complete`). */
  completion: boolean;
  /** Chat messages (`chat`). */
  chat: boolean;
  /** Tool (function) calls in chat. */
  tools: boolean;
  /** Tokens arrive as they are generated (otherwise the stream yields one text event). */
  streaming: boolean;
  /** `embedder()` returns an Embedder. */
  embeddings: boolean;
  /** Chat accepts `prediction` (OpenAI Predicted Outputs, or speculative decoding locally). */
  predictedOutputs: boolean;
  /** A stable prompt prefix is reused across requests (KV cache, hosted prompt cache). */
  promptCaching: boolean;
  /** Tokens the model sees at once (prompt + output). */
  contextLength: number;
  /** Code leaves this machine (a non-loopback URL): the send policy applies (see policy.ts). */
  hosted: boolean;
}

/** Sampling settings common to every generating call. */
export interface GenerationOptions {
  maxTokens?: number;
  /** 0 is greedy. */
  temperature?: number;
  topP?: number;
  /** Generation ends before any of these strings; they are not included in the output. */
  stop?: string[];
  /** Stops the request or inference; the stream then throws an AbortError. */
  signal?: AbortSignal;
}

/** A context file shown to the model alongside the cursor (llama.cpp's `input_extra`). */
export interface ContextFile {
  filename: string;
  text: string;
  /**
   * The file the text comes from (a path relative to the root, an absolute path or a file:// URI),
   * when `filename` is a label; the send policy checks it. Never sent to a provider.
   */
  path?: string;
}

export interface InfillRequest extends GenerationOptions {
  /** Text before the cursor. */
  prefix: string;
  /** Text after the cursor. */
  suffix: string;
  /** Path of the file being edited, relative to its root when possible. */
  filename?: string;
  /** Other code worth seeing; put stable files first so prompt caches hit. */
  extra?: ContextFile[];
  /**
   * Indentation of the cursor's line: generation may stop at a line indented less (the end of
   * the block). Sent as llama.cpp's `n_indent`; other providers leave it to post-processing.
   */
  indent?: number;
  /** Generation time limit in ms after the first token (llama.cpp `t_max_predict_ms`). */
  maxPredictMs?: number;
}

export interface CompletionRequest extends GenerationOptions {
  /** The raw prompt, already templated. */
  prompt: string;
  /** Files whose text the prompt carries (paths or file:// URIs): a hosted provider refuses ignored ones. */
  sources?: string[];
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  /** The provider's id for the call, echoed back in the tool message that answers it. */
  id: string;
  name: string;
  /** Parsed arguments (providers send JSON text or objects; both arrive here parsed). */
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name?: string; content: string };

export interface ChatRequest extends GenerationOptions {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  /**
   * Expected output (for apply: the original file). Sent as OpenAI's Predicted Outputs where
   * `capabilities.predictedOutputs`; otherwise ignored.
   */
  prediction?: string;
  /** Files whose text the messages carry (paths or file:// URIs): a hosted provider refuses ignored ones. */
  sources?: string[];
}

export type FinishReason = 'stop' | 'length' | 'toolCalls' | 'cancelled' | 'other';

export interface Usage {
  promptTokens?: number;
  completionTokens?: number;
  /** Prompt tokens served from a cache (KV reuse, hosted prompt cache). */
  cachedPromptTokens?: number;
  /** Predicted Outputs accounting. */
  acceptedPredictionTokens?: number;
  rejectedPredictionTokens?: number;
}

/** One step of a generation stream. A well-formed stream ends with exactly one `done`. */
export type GenerationEvent =
  | { type: 'text'; text: string }
  | { type: 'toolCall'; call: ToolCall }
  | { type: 'done'; finishReason: FinishReason; usage?: Usage };

export type GenerationStream = AsyncIterable<GenerationEvent>;

/** Counts tokens the way a model does. The ONNX tokenizer implements this. */
export interface TokenCounter {
  countTokens(text: string): number;
}

/** A model's own tokenizer. */
export interface Tokenizer extends TokenCounter {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The outcome of probing a provider (`caret doctor`). */
export interface ProviderHealth {
  status: 'ok' | 'warn' | 'error';
  detail: string;
  fix?: string;
}

/**
 * Engines that the `builtin` provider runs, one per role, registered by the rooms that build them
 * (completion, next edit, apply). A room adds its entry by declaration merging:
 *
 *   declare module '../models/index.js' { interface BuiltinEngines { completion: MyEngine } }
 *
 * and registers the implementation with `BuiltinProvider.register('completion', engine)`.
 */
export interface BuiltinEngines {}

export interface ModelProvider {
  readonly kind: ProviderKind;
  /** Model name as configured (empty for builtin). */
  readonly model: string;
  /** Where requests go (a URL, a model directory, or `builtin:`); shown in errors and doctor. */
  readonly endpoint: string;
  /** Stable identity of provider, endpoint and model: a cache key (e.g. for embeddings). */
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  /** The model's tokenizer, when the provider has it locally (onnx). */
  readonly tokenizer?: Tokenizer;

  /** Fill in the middle. Present when `capabilities.fim !== 'none'`. */
  infill?(request: InfillRequest): GenerationStream;
  /** Continue a raw prompt. Present when `capabilities.completion`. */
  complete?(request: CompletionRequest): GenerationStream;
  /** Chat, with tools when `capabilities.tools`. Present when `capabilities.chat`. */
  chat?(request: ChatRequest): GenerationStream;
  /** The embedding model. Present when `capabilities.embeddings`. */
  embedder?(): Embedder;
  /** Reachability and configuration probe for `caret doctor`. */
  check?(signal?: AbortSignal): Promise<ProviderHealth>;
  dispose?(): Promise<void>;
}

/** Where a request comes from: picks the workspace's configuration and the editor's environment. */
export interface ResolveScope {
  /** Canonical workspace root the request is about. */
  root?: string;
  /** The editor's environment (API-key variables, proxies); falls back to the daemon's. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Per-role selection: the daemon-wide registry implements this (services.models). */
export interface ModelResolver {
  /** The provider configured for a role; `builtin` when none is. Throws ModelError when misconfigured. */
  resolve(role: ModelRole, scope?: ResolveScope): ModelProvider;
  /** The embedding model for the index, or undefined when search is lexical only (builtin). */
  embedder(scope?: ResolveScope): Embedder | undefined;
}
