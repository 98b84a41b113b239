// Streamed response bodies: Server-Sent Events (llama.cpp, OpenAI, Anthropic) and
// newline-delimited JSON (Ollama). Decoders are pure over chunks of text so they can be tested
// with any chunking; readers add the I/O, the idle timeout and the abort.
import { abortError, ModelError } from '../errors.js';
import type { ProviderKind } from '../provider.js';
import type { OpenResponse } from './transport.js';

export interface SseEvent {
  event: string;
  data: string;
}

/** Incremental SSE decoder (WHATWG event-stream rules: `data:` lines joined, blank line ends an event). */
export class SseDecoder {
  private buffer = '';
  private data: string[] = [];
  private event = '';

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
      if (this.buffer[newline] === '\r' && width === 1 && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line, out);
    }
    return out;
  }

  /** Ends the input; an event not closed by a blank line is dropped, as the spec says. */
  end(): { pending: boolean } {
    const pending = this.buffer.trim().length > 0 || this.data.length > 0;
    this.buffer = '';
    this.data = [];
    return { pending };
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

/** Incremental NDJSON decoder: one JSON value per line. */
export class NdjsonDecoder {
  private buffer = '';

  push(text: string): string[] {
    this.buffer += text;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    return lines.map((line) => line.trim()).filter(Boolean);
  }

  /** The unterminated last line, if any (a final object without a trailing newline is valid). */
  end(): string | undefined {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest || undefined;
  }
}

/** Text chunks of a response body; honours the idle timeout and the abort signal. */
export async function* bodyText(response: OpenResponse, provider: ProviderKind, endpoint: string, timeoutMs: number, caller?: AbortSignal): AsyncGenerator<string> {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (caller?.aborted) throw abortError(caller);
        if (response.signal.aborted && (response.signal.reason as Error | undefined)?.name === 'TimeoutError') {
          throw new ModelError({ kind: 'timeout', provider, endpoint, message: `the stream stalled for ${timeoutMs} ms`, fix: 'Check the server\'s load, or raise `timeoutMs` for this role' });
        }
        throw new ModelError({ kind: 'malformed', provider, endpoint, message: `the connection broke mid-response (${(error as Error).message})`, fix: 'Check the server\'s log; a proxy may be cutting long responses', cause: error });
      }
      if (chunk.done) break;
      response.touch();
      const text = decoder.decode(chunk.value, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    response.close();
    reader.releaseLock?.();
  }
}

/** Reads a whole (non-streamed) JSON body. */
export async function readJson(response: OpenResponse, provider: ProviderKind, endpoint: string, timeoutMs: number, caller?: AbortSignal): Promise<unknown> {
  let text = '';
  for await (const chunk of bodyText(response, provider, endpoint, timeoutMs, caller)) text += chunk;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(provider, endpoint, `the response is not JSON (${preview(text)})`);
  }
}

export async function* sseEvents(text: AsyncIterable<string>): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder();
  for await (const chunk of text) yield* decoder.push(chunk);
  // A server that closes without a final blank line still sent a complete last event in practice;
  // whether the response as a whole was complete is the caller's end-marker check.
  yield* decoder.push('\n\n');
}

export async function* ndjsonValues(text: AsyncIterable<string>, provider: ProviderKind, endpoint: string): AsyncGenerator<unknown> {
  const decoder = new NdjsonDecoder();
  const parse = (line: string) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw malformed(provider, endpoint, `a streamed line is not JSON (${preview(line)})`);
    }
  };
  for await (const chunk of text) for (const line of decoder.push(chunk)) yield parse(line);
  const last = decoder.end();
  if (last !== undefined) yield parse(last);
}

/** Parses one SSE `data` payload as JSON. */
export function parseEventData(event: SseEvent, provider: ProviderKind, endpoint: string): unknown {
  try {
    return JSON.parse(event.data) as unknown;
  } catch {
    throw malformed(provider, endpoint, `a streamed event is not JSON (${preview(event.data)})`);
  }
}

export function malformed(provider: ProviderKind, endpoint: string, message: string): ModelError {
  return new ModelError({ kind: 'malformed', provider, endpoint, message, fix: 'Check that the URL points at a server of this kind and that its version is supported' });
}

export function truncated(provider: ProviderKind, endpoint: string): ModelError {
  return new ModelError({ kind: 'malformed', provider, endpoint, message: 'the stream ended before the response was complete', fix: 'The server or a proxy closed the connection early; check the server\'s log' });
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat || 'empty';
}
