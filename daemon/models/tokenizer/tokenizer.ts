// A model's own tokenizer, loaded from its tokenizer.json (the Hugging Face `tokenizers` format:
// byte-level BPE as Qwen2.5-Coder and StarCoder2 use, WordPiece as BERT uses, and the other model
// types that format describes). Encoding and decoding are done by @huggingface/tokenizers, Hugging
// Face's own pure-JavaScript port, which translates the files' Oniguruma split patterns faithfully;
// this module adds loading with clear errors, the caret Tokenizer contract and streaming decode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { Tokenizer } from '../provider.js';

export class TokenizerLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenizerLoadError';
  }
}

export interface EncodeOptions {
  /** Adds the model's template tokens (BERT's [CLS] ... [SEP], Llama's BOS). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leaves out special tokens (end-of-text, FIM markers). Default false. */
  skipSpecialTokens?: boolean;
}

/** A tokenizer.json-backed tokenizer implementing caret's Tokenizer contract. */
export class ModelTokenizer implements Tokenizer {
  private readonly inner: HfTokenizer;
  /** Ids of tokens marked special in tokenizer.json (`added_tokens[].special`). */
  readonly specialIds: ReadonlySet<number>;
  /** Number of ids, added tokens included (the size a model's logits have at least). */
  readonly vocabSize: number;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown> = {}) {
    try {
      this.inner = new HfTokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new TokenizerLoadError(`unsupported tokenizer.json: ${(error as Error).message}`, { cause: error });
    }
    const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as Array<{ id: number; special?: boolean }>) : [];
    this.specialIds = new Set(added.filter((token) => token.special).map((token) => token.id));
    let max = -1;
    for (const id of this.inner.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.inner.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.inner.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  countTokens(text: string): number {
    return this.encode(text, { addSpecialTokens: false }).length;
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }
}

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TokenizerLoadError(`cannot read ${what} at ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new TokenizerLoadError(`${what} at ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Loads `tokenizer.json` (and `tokenizer_config.json` when present) from a model directory. */
export function loadTokenizer(dir: string): ModelTokenizer {
  const json = readJson(join(dir, 'tokenizer.json'), 'tokenizer.json');
  if (typeof json.model !== 'object' || json.model === null) throw new TokenizerLoadError(`tokenizer.json in ${dir} has no "model" section; is it a Hugging Face tokenizers file?`);
  let config: Record<string, unknown> = {};
  try {
    config = readJson(join(dir, 'tokenizer_config.json'), 'tokenizer_config.json');
  } catch (error) {
    if (!String((error as Error).message).includes('ENOENT')) throw error;
  }
  return new ModelTokenizer(json, config);
}

/**
 * Turns a stream of token ids into text pieces. Byte-level tokens can split a multi-byte character,
 * so text is only released once it no longer ends in a replacement character; only a short window
 * of recent tokens is re-decoded per step (the approach of Hugging Face's text-generation server).
 */
export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly tokenizer: Pick<ModelTokenizer, 'decode'>, private readonly options: DecodeOptions = {}) {}

  /** Adds one token; returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.ids.push(id);
    const before = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset), this.options);
    const after = this.tokenizer.decode(this.ids.slice(this.prefixOffset), this.options);
    if (after.length > before.length && !after.endsWith('\uFFFD')) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return after.slice(before.length);
    }
    return '';
  }

  /** Whatever is still held back (a trailing partial character decodes as U+FFFD). */
  flush(): string {
    const before = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset), this.options);
    const after = this.tokenizer.decode(this.ids.slice(this.prefixOffset), this.options);
    this.prefixOffset = this.readOffset = this.ids.length;
    return after.slice(before.length);
  }
}
