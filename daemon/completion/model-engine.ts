// Completion and next edit through a configured model (llama.cpp, Ollama, OpenAI-compatible,
// Anthropic, onnx): picks the provider's best way in (native infill, a FIM template over a raw
// prompt, or chat), reads the stream under the caller's signal, and stops reading an enormous
// answer early. Post-processing happens in the service, the same for every engine.
import { fimTemplates, type ModelProvider, type FimTemplate, type GenerationStream, type InfillRequest, renderFimPrompt, fimStops } from '../models/index.js';
import { parseChatCompletion, renderChatCompletion } from './prompts/chat.js';

/** What a completion prompt is made of, rendered by daemon/context into the model's budget. */
export interface ModelCompletionInput {
  parts: Pick<InfillRequest, 'prefix' | 'suffix' | 'filename' | 'extra'>;
  languageId: string;
  maxTokens: number;
}

/** The FIM template for a model, by family name in the model's name. */
export function templateForModel(model: string): FimTemplate | undefined {
  const name = model.toLowerCase();
  if (name.includes('qwen')) return fimTemplates.qwen;
  if (name.includes('starcoder') || name.includes('santacoder')) return fimTemplates.starcoder;
  if (name.includes('codellama') || name.includes('code-llama')) return fimTemplates.codellama;
  if (name.includes('deepseek')) return fimTemplates.deepseek;
  if (name.includes('codestral') || name.includes('mistral')) return fimTemplates.codestral;
  return undefined;
}

/** Settles with `promise`, or rejects as soon as `signal` fires, whether or not the promise listens. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Reads a generation stream into text; stops reading beyond `maxChars`. The signal ends the read
 * at once even if the provider is slow to notice it; the stream is then closed.
 */
export async function collectText(stream: GenerationStream, signal: AbortSignal, maxChars = 8000): Promise<string> {
  const iterator = stream[Symbol.asyncIterator]();
  let text = '';
  try {
    for (;;) {
      const step = await raceAbort(iterator.next(), signal);
      if (step.done) break;
      const event = step.value;
      if (event.type === 'text') {
        text += event.text;
        if (text.length >= maxChars) break;
      } else if (event.type === 'done') break;
    }
  } finally {
    // Leaving early (cap, abort, enough text) closes the stream, which stops the request.
    void iterator.return?.(undefined)?.catch(() => undefined);
  }
  signal.throwIfAborted();
  return text.slice(0, maxChars);
}

export async function modelCompletion(provider: ModelProvider, input: ModelCompletionInput, signal: AbortSignal): Promise<string> {
  const { prefix, suffix } = input.parts;
  const filename = input.parts.filename ?? 'untitled';
  const extra = input.parts.extra ?? [];
  const common = { maxTokens: input.maxTokens, temperature: 0, signal };
  // Every file whose text a raw or chat prompt carries: a hosted provider refuses ignored ones.
  const sources = [...(input.parts.filename ? [input.parts.filename] : []), ...extra.map((file) => file.path ?? file.filename)];
  if (provider.infill && provider.capabilities.fim !== 'none') {
    return collectText(provider.infill({ ...common, prefix, suffix, filename, extra, stop: ['\n\n\n'] }), signal);
  }
  const template = templateForModel(provider.model);
  if (provider.complete && provider.capabilities.completion && template) {
    const prompt = renderFimPrompt(template, { prefix, suffix, filename, extra });
    return collectText(provider.complete({ ...common, prompt, sources, stop: fimStops(template, ['\n\n\n']) }), signal);
  }
  if (provider.chat && provider.capabilities.chat) {
    const messages = renderChatCompletion({ filename, languageId: input.languageId, prefix, suffix, extra });
    const answer = await collectText(provider.chat({ ...common, messages, sources }), signal);
    const linePrefix = prefix.slice(prefix.lastIndexOf('\n') + 1);
    return parseChatCompletion(answer, linePrefix);
  }
  throw new Error(`provider ${provider.kind} (${provider.model}) can neither infill, complete with a known FIM template, nor chat`);
}

/** Runs an edit-region prompt; answers the model's raw output. */
export async function modelRewrite(provider: ModelProvider, prompt: string, maxTokens: number, signal: AbortSignal, sources: string[] = []): Promise<string> {
  const common = { maxTokens, temperature: 0, signal, sources };
  if (provider.chat && provider.capabilities.chat) {
    return collectText(provider.chat({ ...common, messages: [{ role: 'user', content: prompt }] }), signal, 16_000);
  }
  if (provider.complete && provider.capabilities.completion) {
    return collectText(provider.complete({ ...common, prompt }), signal, 16_000);
  }
  throw new Error(`provider ${provider.kind} (${provider.model}) can neither chat nor complete a prompt`);
}
