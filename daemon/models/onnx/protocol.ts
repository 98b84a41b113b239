// Messages between the daemon and a model worker thread. Requests carry an id; the worker answers
// each with one `result` or `error`, after any number of `text` pieces (streamed generation).
import type { EncoderInfo, EncoderOptions, EngineOptions, GenerateOptions, GenerateResult, CausalLmInfo, VerifyResult } from './engine.js';
import type { ModelDirectory } from './model-dir.js';

export type WorkerRequest =
  | { type: 'loadCausal'; id: number; model: ModelDirectory; options: EngineOptions }
  | { type: 'loadEncoder'; id: number; model: ModelDirectory; options: EncoderOptions }
  /** `special: false` tokenizes a text prompt without the tokenizer's added special tokens. */
  | { type: 'generate'; id: number; prompt: string | number[]; options: GenerateOptions; special?: boolean }
  | { type: 'verify'; id: number; context: string | number[]; draft: string | number[]; reuse: boolean }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'clearCache'; id: number }
  | { type: 'cacheStats'; id: number }
  | { type: 'cancel'; id: number }
  /** Stop after the current forward pass, release the session and end the thread. */
  | { type: 'shutdown' };

export interface ResultValues {
  loadCausal: CausalLmInfo;
  loadEncoder: EncoderInfo;
  generate: GenerateResult;
  verify: VerifyResult & { context: number[]; draft: number[] };
  embed: Float32Array[];
  clearCache: null;
  cacheStats: { entries: number; bytes: number };
}

export interface SerializedError {
  name: string;
  message: string;
  /** Set for ModelError: enough to rebuild it on the daemon side. */
  model?: { kind: string; endpoint: string; fix: string; message: string };
}

export type WorkerReply =
  | { type: 'text'; id: number; text: string; token: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError };

/** Shared between daemon and worker: slot 0 holds the id of the request cancelled most recently. */
export const cancelSlot = 0;
/** Slot 1 is set to 1 when the worker is being shut down: every request counts as cancelled. */
export const shutdownSlot = 1;
