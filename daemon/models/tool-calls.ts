// Tool calls in a local model's text: Qwen2.5, Hermes and similar templates have the model answer
// `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`. This turns a stream of text pieces
// into text and toolCall events; text outside the markers streams through as it arrives. Pure.
import type { GenerationEvent, ToolCall } from './provider.js';

const open = '<tool_call>';
const close = '</tool_call>';

/** Incremental parser: push text pieces, then `end()`. */
export class ToolCallParser {
  private buffer = '';
  private inside = false;
  private count = 0;
  /** Tool calls emitted so far. */
  get calls(): number {
    return this.count;
  }

  push(piece: string): GenerationEvent[] {
    this.buffer += piece;
    const events: GenerationEvent[] = [];
    for (;;) {
      if (!this.inside) {
        const at = this.buffer.indexOf(open);
        if (at < 0) {
          // Hold back a tail that could be the start of the opening marker.
          const keep = partialSuffix(this.buffer, open);
          const text = this.buffer.slice(0, this.buffer.length - keep);
          if (text) events.push({ type: 'text', text });
          this.buffer = this.buffer.slice(this.buffer.length - keep);
          return events;
        }
        const before = this.buffer.slice(0, at);
        if (before.trim()) events.push({ type: 'text', text: before });
        this.buffer = this.buffer.slice(at + open.length);
        this.inside = true;
      }
      const end = this.buffer.indexOf(close);
      if (end < 0) return events;
      events.push(this.toEvent(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + close.length).replace(/^\s*\n/, '');
      this.inside = false;
    }
  }

  /** Whatever is left: an unclosed call is parsed if it is complete JSON, else returned as text. */
  end(): GenerationEvent[] {
    const rest = this.buffer;
    this.buffer = '';
    if (!this.inside) return rest ? [{ type: 'text', text: rest }] : [];
    this.inside = false;
    const event = this.toEvent(rest);
    return [event];
  }

  private toEvent(body: string): GenerationEvent {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.trim());
    } catch {
      return { type: 'text', text: `${open}${body}${close}` };
    }
    const object = parsed as { name?: unknown; arguments?: unknown; parameters?: unknown };
    if (!object || typeof object !== 'object' || typeof object.name !== 'string') return { type: 'text', text: `${open}${body}${close}` };
    let args = object.arguments ?? object.parameters ?? {};
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        args = { value: args };
      }
    }
    const call: ToolCall = { id: `call_${this.count++}`, name: object.name, arguments: args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : { value: args } };
    return { type: 'toolCall', call };
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (marker.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}
