// Model apply: a model rewrites the whole file from the original and the sketch (whole-file
// rewrite is what models do most accurately), and the output is diffed into hunks by the caller.
//   - a local ONNX causal LM: speculative edits, the original as the draft (speculative.ts);
//   - a chat provider: the original as `prediction` (OpenAI Predicted Outputs) where supported,
//     plain generation with the original in the prompt otherwise;
//   - a completion-only provider: the same prompt as plain text.
// Hosted providers get nothing the send policy forbids (secrets, ignored files).
import { type ChatMessage, type GenerationStream, type ModelProvider, ModelError, OnnxCausalLm, OnnxProvider, sendPolicy } from '../models/index.js';
import type { ModelRewriter, RewriteRequest, RewriteResult, SelectionWriter } from './service.js';
import { speculativeDecode, type Verifier } from './speculative.js';

/** Where the rewritten file ends in the model's output (the closing fence). */
export const REWRITE_STOP = '\n```';

const SYSTEM =
  'You merge code edits. Given a file and an update to it (where comments such as "... existing code ..." ' +
  'stand for unchanged code), output the complete updated file and nothing else, inside one code fence.';

/** The prompt for models without chat: the original, the update, and the start of the answer. */
export function rewritePrompt(original: string, sketch: string, instruction?: string): string {
  const ask = instruction ? `### Instruction\n${instruction}\n` : '';
  return `${SYSTEM}\n${ask}### Original\n\`\`\`\n${withNewline(original)}\`\`\`\n### Update\n\`\`\`\n${withNewline(sketch)}\`\`\`\n### Result of the Update\n\`\`\`\n`;
}

export function rewriteMessages(original: string, sketch: string, instruction?: string): ChatMessage[] {
  return [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: `${instruction ? `Instruction: ${instruction}\n\n` : ''}Original file:\n\`\`\`\n${withNewline(original)}\`\`\`\n\nUpdate:\n\`\`\`\n${withNewline(sketch)}\`\`\`\n\nOutput the complete updated file in one code fence.`,
    },
  ];
}

/**
 * The file inside a model's answer: the text up to the closing fence (a chat answer's opening
 * fence is dropped too), with the original's final-newline convention.
 */
export function extractRewrite(output: string, original: string, expectOpeningFence: boolean): string {
  let text = output;
  if (expectOpeningFence) {
    const open = /^[^\n]*?```[^\n]*\n/.exec(text);
    if (open) text = text.slice(open.index + open[0].length);
  }
  const close = text.indexOf(REWRITE_STOP);
  if (close >= 0) text = text.slice(0, close + 1);
  else if (text.startsWith('```')) text = '';
  const originalEnds = original.length === 0 || /[\r\n]$/.test(original);
  if (!originalEnds) text = text.replace(/\r?\n$/, '');
  else if (text.length > 0 && !/[\r\n]$/.test(text)) text += '\n';
  return text;
}

/** The file text in a model's answer so far: after the opening fence (chat), up to the closing one. */
export function partialRewrite(output: string, expectOpeningFence: boolean): string {
  let text = output;
  if (expectOpeningFence) {
    const open = /^[^\n]*?```[^\n]*\n/.exec(text);
    if (!open) return '';
    text = text.slice(open.index + open[0].length);
  }
  const close = text.indexOf(REWRITE_STOP);
  return close >= 0 ? text.slice(0, close + 1) : text;
}

function withNewline(text: string): string {
  return text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
}

/** The local model surface speculative edits need (OnnxCausalLm has it). */
export interface LocalCausalLm {
  readonly tokenizer: { encode(text: string, options?: { addSpecialTokens?: boolean }): number[]; decode(ids: readonly number[]): string };
  readonly contextLength: number;
  load(): Promise<{ eosTokenIds: number[] }>;
  verify(context: number[], draft: number[], options?: { signal?: AbortSignal }): Promise<{ accepted: number; predicted: number[] }>;
}

/** A Verifier over a local LM: each call verifies the draft after the prompt and everything accepted so far. */
export function localVerifier(lm: LocalCausalLm, prompt: readonly number[], signal?: AbortSignal): Verifier & { readonly context: number[] } {
  const context = [...prompt];
  return {
    context,
    async verify(draft) {
      const result = await lm.verify(context, [...draft], signal ? { signal } : {});
      const next = result.predicted[result.accepted]!;
      context.push(...draft.slice(0, result.accepted), next);
      return { accepted: result.accepted, next };
    },
  };
}

export interface SpeculativeRewriterOptions {
  /** Draft tokens verified per forward pass (default 32). */
  chunk?: number;
  /** Output tokens that must line up with the original to resume speculating (default 4). */
  realign?: number;
}

/** Speculative edits on a local model: the original file is the draft. */
export class SpeculativeRewriter implements ModelRewriter {
  readonly description: string;

  constructor(
    private readonly lm: LocalCausalLm,
    private readonly name: { provider: string; model: string },
    private readonly options: SpeculativeRewriterOptions = {},
  ) {
    this.description = `speculative edits on ${name.model}`;
  }

  async rewrite(request: RewriteRequest): Promise<RewriteResult> {
    const info = await this.lm.load();
    const prompt = this.lm.tokenizer.encode(rewritePrompt(request.original, request.sketch, request.instruction));
    const draft = this.lm.tokenizer.encode(`${withNewline(request.original)}\`\`\``, { addSpecialTokens: false });
    // Room for the whole original plus a third again (insertions), within the context window.
    const room = this.lm.contextLength - prompt.length - 1;
    if (room < draft.length) {
      throw new ModelError({
        kind: 'rejected',
        provider: 'onnx',
        endpoint: this.name.model,
        message: `the file (${draft.length} tokens) and its prompt (${prompt.length}) do not fit the model's ${this.lm.contextLength}-token context`,
        fix: 'Use strategy "merge", or a model with a longer context',
      });
    }
    const maxTokens = Math.min(room, Math.ceil(draft.length * 1.35) + 256);
    const verifier = localVerifier(this.lm, prompt, request.signal);
    const stopTokens = new Set(info.eosTokenIds);
    let done = false;
    const result = await speculativeDecode(verifier, {
      draft,
      stopTokens,
      maxTokens,
      ...(this.options.chunk && { chunk: this.options.chunk }),
      ...(this.options.realign && { realign: this.options.realign }),
      signal: request.signal,
      stopWhen: (committed) => {
        const text = this.lm.tokenizer.decode(committed);
        request.onProgress?.(partialRewrite(text, false));
        done = text.includes(REWRITE_STOP);
        return done;
      },
    });
    const text = this.lm.tokenizer.decode(result.tokens);
    if (!done && result.finish === 'length' && !text.includes(REWRITE_STOP)) {
      throw new ModelError({ kind: 'malformed', provider: 'onnx', endpoint: this.name.model, message: `the model wrote ${result.tokens.length} tokens without finishing the file`, fix: 'Use strategy "merge", or a stronger apply model' });
    }
    return {
      text: extractRewrite(text, request.original, false),
      stats: {
        provider: this.name.provider,
        model: this.name.model,
        outputTokens: result.tokens.length,
        forwardPasses: result.passes,
        acceptedDraftTokens: result.accepted,
        rejectedDraftTokens: result.drafted - result.accepted,
      },
    };
  }
}

/** A provider's chat or completion endpoint rewrites the file; the original goes as `prediction` where supported. */
export class ProviderRewriter implements ModelRewriter {
  readonly description: string;

  constructor(private readonly provider: ModelProvider) {
    this.description = `${provider.kind} ${provider.model}`.trim();
  }

  async rewrite(request: RewriteRequest): Promise<RewriteResult> {
    const { provider } = this;
    if (provider.capabilities.hosted) {
      const decision = sendPolicy({ path: uriPath(request.uri), text: request.original }, true);
      if (!decision.allowed) {
        throw new ModelError({ kind: 'refused', provider: provider.kind, endpoint: provider.endpoint, message: `${request.uri} is not sent to a hosted model: ${decision.reason}`, fix: 'Use strategy "merge", or a local apply model' });
      }
    }
    const generation = { temperature: 0, maxTokens: Math.max(1024, Math.ceil(request.original.length / 2)), signal: request.signal };
    let stream: GenerationStream;
    let chat = false;
    if (provider.capabilities.chat && provider.chat) {
      chat = true;
      stream = provider.chat({
        ...generation,
        messages: rewriteMessages(request.original, request.sketch, request.instruction),
        sources: [request.uri],
        ...(provider.capabilities.predictedOutputs && { prediction: request.original }),
      });
    } else if (provider.capabilities.completion && provider.complete) {
      stream = provider.complete({ ...generation, prompt: rewritePrompt(request.original, request.sketch, request.instruction), sources: [request.uri], stop: [REWRITE_STOP] });
    } else {
      throw new ModelError({ kind: 'unsupported', provider: provider.kind, endpoint: provider.endpoint, message: 'the apply model can neither chat nor complete text', fix: 'Point [models.apply] at a chat or completion model' });
    }
    let text = '';
    let usage: { completionTokens?: number; acceptedPredictionTokens?: number; rejectedPredictionTokens?: number } = {};
    for await (const event of stream) {
      if (event.type === 'text') {
        text += event.text;
        request.onProgress?.(partialRewrite(text, chat));
      } else if (event.type === 'done') {
        usage = event.usage ?? {};
        if (event.finishReason === 'length') {
          throw new ModelError({ kind: 'malformed', provider: provider.kind, endpoint: provider.endpoint, message: 'the model ran out of tokens before finishing the file', fix: 'Use strategy "merge", or raise the model\'s output limit' });
        }
      }
    }
    // A completion stops before the fence; a chat answer carries its own fences.
    const output = chat ? text : `${text}${REWRITE_STOP}`;
    return {
      text: extractRewrite(output, request.original, chat),
      stats: {
        provider: provider.kind,
        model: provider.model,
        outputTokens: usage.completionTokens ?? 0,
        ...(usage.acceptedPredictionTokens !== undefined && { acceptedDraftTokens: usage.acceptedPredictionTokens }),
        ...(usage.rejectedPredictionTokens !== undefined && { rejectedDraftTokens: usage.rejectedPredictionTokens }),
      },
    };
  }
}

function uriPath(uri: string): string {
  try {
    return decodeURIComponent(new URL(uri).pathname);
  } catch {
    return uri;
  }
}

/** The rewriter for the configured apply provider; undefined for `builtin` (merge only). */
export function rewriterFor(provider: ModelProvider, options: SpeculativeRewriterOptions = {}): ModelRewriter | undefined {
  if (provider.kind === 'builtin') return undefined;
  if (provider instanceof OnnxProvider) {
    const lm = provider.causalLm();
    if (lm instanceof OnnxCausalLm) return new SpeculativeRewriter(lm, { provider: 'onnx', model: provider.model }, options);
  }
  return new ProviderRewriter(provider);
}

/** caret/edit's writer: a chat (or completion) provider rewrites the selection. */
export class ChatSelectionWriter implements SelectionWriter {
  readonly description: string;

  constructor(private readonly provider: ModelProvider) {
    this.description = `${provider.kind} ${provider.model}`.trim();
  }

  async write(request: Parameters<SelectionWriter['write']>[0]): Promise<{ text: string; stats: RewriteResult['stats'] }> {
    const { provider } = this;
    if (!(provider.capabilities.chat && provider.chat) && !(provider.capabilities.completion && provider.complete)) {
      throw new ModelError({ kind: 'unsupported', provider: provider.kind, endpoint: provider.endpoint, message: 'caret/edit needs a chat model', fix: 'Set [models.chat] in config.toml (an OpenAI-compatible server, Ollama, Anthropic or llama.cpp)' });
    }
    if (provider.capabilities.hosted) {
      const decision = sendPolicy({ path: uriPath(request.uri), text: request.before + request.selection + request.after }, true);
      if (!decision.allowed) throw new ModelError({ kind: 'refused', provider: provider.kind, endpoint: provider.endpoint, message: `${request.uri} is not sent to a hosted model: ${decision.reason}`, fix: 'Use a local chat model for this file' });
    }
    // Context around the selection, bounded so the prompt stays small.
    const before = request.before.slice(-6000);
    const after = request.after.slice(0, 3000);
    const language = request.languageId ?? '';
    const user =
      `File: ${uriPath(request.uri)}\n\nCode before the selection:\n\`\`\`${language}\n${before}\n\`\`\`\n\nThe selection:\n\`\`\`${language}\n${request.selection}\n\`\`\`\n\n` +
      `Code after the selection:\n\`\`\`${language}\n${after}\n\`\`\`\n\nInstruction: ${request.instruction}\n\nAnswer with the new text of the selection only, in one code fence.`;
    const generation = { temperature: 0, maxTokens: Math.max(512, request.selection.length), signal: request.signal };
    const chat = Boolean(provider.capabilities.chat && provider.chat);
    const stream = chat
      ? provider.chat!({ ...generation, messages: [{ role: 'system', content: 'You edit code exactly as instructed and answer with code only.' }, { role: 'user', content: user }] })
      : provider.complete!({ ...generation, prompt: `${user}\n\`\`\`${language}\n`, stop: [REWRITE_STOP] });
    let text = '';
    let outputTokens = 0;
    for await (const event of stream) {
      if (event.type === 'text') text += event.text;
      else if (event.type === 'done') outputTokens = event.usage?.completionTokens ?? 0;
    }
    const answer = extractRewrite(chat ? text : `${text}${REWRITE_STOP}`, request.selection, chat);
    return { text: answer, stats: { provider: provider.kind, model: provider.model, outputTokens } };
  }
}
