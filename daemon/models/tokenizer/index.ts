// The tokenizer room: tokenizer.json loading, encoding, decoding and streaming decode.
export { ModelTokenizer, StreamingDetokenizer, TokenizerLoadError, loadTokenizer, type DecodeOptions, type EncodeOptions } from './tokenizer.js';
export { ChunkedEncoder } from './chunked-encoder.js';
