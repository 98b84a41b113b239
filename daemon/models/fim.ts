// Fill-in-the-middle prompts for models trained with FIM markers, for providers that can only
// continue a raw prompt (Ollama with `raw`, OpenAI-compatible /v1/completions without `suffix`,
// local ONNX models). Pure.
import type { FimTemplate, InfillRequest } from './provider.js';

/** Marker sets of the common code model families, selectable by name in config (`fimTemplate`). */
export const fimTemplates = {
  /** Qwen2.5-Coder (repo-level markers too). */
  qwen: { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', fileSeparator: '<|file_sep|>', stop: ['<|endoftext|>', '<|file_sep|>', '<|fim_pad|>'] },
  /** StarCoder, StarCoder2, SantaCoder. */
  starcoder: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', fileSeparator: '<file_sep>', stop: ['<|endoftext|>', '<file_sep>'] },
  /** CodeLlama. */
  codellama: { prefix: '<PRE> ', suffix: ' <SUF>', middle: ' <MID>', stop: ['<EOT>'] },
  /** DeepSeek-Coder. */
  deepseek: { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', stop: ['<｜end▁of▁sentence｜>'] },
  /** Codestral. */
  codestral: { prefix: '[PREFIX]', suffix: '[SUFFIX]', middle: '', stop: ['</s>'] },
} as const satisfies Record<string, FimTemplate>;

export type FimTemplateName = keyof typeof fimTemplates;

export function isFimTemplateName(name: string): name is FimTemplateName {
  return Object.hasOwn(fimTemplates, name);
}

/**
 * Renders an infill request in prefix-suffix-middle order. Context files come first, each after
 * the file separator when the family has one (else as commented-free plain blocks), so the start
 * of the prompt stays the same across keystrokes and prefix caches hit.
 */
export function renderFimPrompt(template: FimTemplate, request: Pick<InfillRequest, 'prefix' | 'suffix' | 'filename' | 'extra'>): string {
  let head = '';
  for (const file of request.extra ?? []) {
    head += template.fileSeparator ? `${template.fileSeparator}${file.filename}\n${file.text}` : `${file.text}`;
    if (!head.endsWith('\n')) head += '\n';
  }
  if (template.fileSeparator && request.filename && (request.extra?.length ?? 0) > 0) head += `${template.fileSeparator}${request.filename}\n`;
  if (template.middle === '' && template.prefix === '[PREFIX]') {
    // Codestral puts the suffix first (SPM order).
    return `${head}${template.suffix}${request.suffix}${template.prefix}${request.prefix}`;
  }
  return `${head}${template.prefix}${request.prefix}${template.suffix}${request.suffix}${template.middle}`;
}

/** Stop strings of a template merged with the caller's, without duplicates. */
export function fimStops(template: FimTemplate | undefined, stop: readonly string[] | undefined): string[] {
  return [...new Set([...(stop ?? []), ...(template?.stop ?? [])])];
}
