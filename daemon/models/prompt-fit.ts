// Fitting an over-long prompt into a local model's context instead of failing: the least important
// text goes first, and the cursor window stays. The budget is the one daemon/context renders
// completion prompts into (context length minus the tokens to generate); the FIM markers, file
// headers or chat template can push a rendered prompt past it, and callers other than completion
// may send anything. Pure: the caller passes the token counter and the renderer.
import type { ChatMessage, ContextFile, InfillRequest } from './provider.js';

export type CountTokens = (text: string) => number;

/** Share of the cursor window's allowance kept for the text before the cursor (as daemon/context). */
const prefixShare = 0.75;

/** Cheap upper bound: byte-level tokenizers never make more tokens than UTF-8 bytes (+ a BOS or two). */
function surelyFits(text: string, budget: number): boolean {
  return text.length * 3 + 4 <= budget || Buffer.byteLength(text) + 4 <= budget;
}

function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** The end of `text` (whole lines, then characters of the last line kept) within `budget` tokens. */
export function keepEnd(text: string, budget: number, count: CountTokens): string {
  if (budget <= 0 || text === '') return '';
  if (surelyFits(text, budget) || count(text) <= budget) return text;
  const parts = lines(text);
  let used = 0;
  let start = parts.length;
  while (start > 0) {
    const cost = count(parts[start - 1]!);
    if (used + cost > budget) break;
    used += cost;
    start--;
  }
  let kept = parts.slice(start).join('');
  // Per-line counts can miss a merge across lines: drop more lines until the whole fits.
  while (kept && count(kept) > budget) kept = kept.slice(kept.indexOf('\n') + 1 || kept.length);
  if (kept === '' && start > 0) {
    // One line longer than the budget: keep its end.
    const line = parts[parts.length - 1]!;
    let chars = Math.max(1, Math.floor(line.length * (budget / Math.max(1, count(line)))));
    while (chars > 0 && count(line.slice(line.length - chars)) > budget) chars = Math.floor(chars * 0.8);
    kept = line.slice(line.length - chars);
  }
  return kept;
}

/** The start of `text` (whole lines) within `budget` tokens. */
export function keepStart(text: string, budget: number, count: CountTokens): string {
  if (budget <= 0 || text === '') return '';
  if (surelyFits(text, budget) || count(text) <= budget) return text;
  const parts = lines(text);
  let used = 0;
  let end = 0;
  while (end < parts.length) {
    const cost = count(parts[end]!);
    if (used + cost > budget) break;
    used += cost;
    end++;
  }
  let kept = parts.slice(0, end).join('');
  while (kept && count(kept) > budget) kept = kept.slice(0, kept.lastIndexOf('\n', kept.length - 2) + 1);
  return kept;
}

export interface InfillFit {
  request: InfillRequest;
  /** Context files left out, and whether the cursor window was cut. */
  droppedFiles: number;
  trimmedWindow: boolean;
}

/**
 * Fits an infill request into `budget` tokens of its rendered prompt: first leaves out context
 * files from the front (the stable files, furthest from the cursor; recent edits sit last), then
 * cuts the cursor window by whole lines from its far ends, 75% of what is left for the prefix.
 * Throws when even the markers and an empty window do not fit.
 */
export function fitInfill(request: InfillRequest, budget: number, render: (request: InfillRequest) => string, count: CountTokens): InfillFit {
  const full = render(request);
  if (surelyFits(full, budget)) return { request, droppedFiles: 0, trimmedWindow: false };
  let total = count(full);
  if (total <= budget) return { request, droppedFiles: 0, trimmedWindow: false };
  let extra: ContextFile[] = [...(request.extra ?? [])];
  let dropped = 0;
  let current: InfillRequest = request;
  while (extra.length > 0 && total > budget) {
    // Drop as many leading files as the overflow needs, then measure exactly.
    let overflow = total - budget;
    while (extra.length > 0 && overflow > 0) {
      overflow -= count(`${extra[0]!.filename}\n${extra[0]!.text}`);
      extra = extra.slice(1);
      dropped++;
    }
    current = { ...request, extra };
    total = count(render(current));
  }
  if (total <= budget) return { request: current, droppedFiles: dropped, trimmedWindow: false };
  const frame = count(render({ ...current, prefix: '', suffix: '' }));
  const allowance = budget - frame;
  if (allowance < 0) throw new RangeError(`the prompt's fixed parts take ${frame} tokens, more than the ${budget} available`);
  const suffixCost = count(request.suffix);
  const prefixAllowance = Math.max(Math.floor(allowance * prefixShare), allowance - suffixCost);
  const prefix = keepEnd(request.prefix, prefixAllowance, count);
  const suffix = keepStart(request.suffix, allowance - (prefix ? count(prefix) : 0), count);
  let fitted: InfillRequest = { ...current, prefix, suffix };
  // Token merges at the joins can still overflow by a few: shave the suffix, then the prefix.
  for (let guard = 0; guard < 64 && count(render(fitted)) > budget; guard++) {
    if (fitted.suffix) fitted = { ...fitted, suffix: fitted.suffix.slice(0, fitted.suffix.lastIndexOf('\n', fitted.suffix.length - 2) + 1) };
    else fitted = { ...fitted, prefix: fitted.prefix.slice(Math.max(1, fitted.prefix.indexOf('\n') + 1)) };
  }
  return { request: fitted, droppedFiles: dropped, trimmedWindow: true };
}

/**
 * Fits a conversation into `budget` tokens of its rendered prompt by leaving out the oldest turns
 * after the system message, a user turn and everything up to the next user turn at a time (so a
 * tool result never loses the call it answers). The last user turn always stays; undefined when
 * even that does not fit.
 */
export function fitChat(messages: readonly ChatMessage[], budget: number, render: (messages: readonly ChatMessage[]) => string, count: CountTokens): { messages: ChatMessage[]; droppedMessages: number } | undefined {
  let kept = [...messages];
  const fits = (candidate: readonly ChatMessage[]) => {
    const text = render(candidate);
    return surelyFits(text, budget) || count(text) <= budget;
  };
  if (fits(kept)) return { messages: kept, droppedMessages: 0 };
  const head = kept[0]?.role === 'system' ? 1 : 0;
  for (;;) {
    let end = head + 1;
    while (end < kept.length && kept[end]!.role !== 'user') end++;
    // No user turn after this one: dropping more would lose the last user turn.
    if (end >= kept.length) return undefined;
    kept = [...kept.slice(0, head), ...kept.slice(end)];
    if (fits(kept)) return { messages: kept, droppedMessages: messages.length - kept.length };
  }
}
