// The models room: providers for every role, chosen in config.
export type { Embedder } from './embedder.js';
export * from './provider.js';
export * from './errors.js';
export * from './builtin.js';
export * from './fim.js';
export * from './policy.js';
export { ChatTemplate, readChatTemplate, templateMessages, type ChatTemplateSource } from './chat-template.js';
export { ToolCallParser } from './tool-calls.js';
export { IgnoredPaths, relativeToRoot, type IgnoredPathsOptions } from './ignored-paths.js';
export { guardIgnored } from './send-guard.js';
export { fitChat, fitInfill, keepEnd, keepStart, type CountTokens, type InfillFit } from './prompt-fit.js';
export * from './registry.js';
export { displayUrl } from './http/transport.js';
export { SseDecoder, NdjsonDecoder } from './http/streams.js';
export { isLoopbackUrl } from './http/remote.js';
export { createOnnxEmbedder, createOnnxProvider, OnnxCausalLm, OnnxProvider, openModelDirectory, stopModelWorkers, type OnnxCausalLmOptions, type OnnxEmbedderOptions, type GenerateResult as OnnxGenerateResult, type VerifyResult as OnnxVerifyResult } from './onnx/index.js';
export { loadTokenizer, ModelTokenizer, StreamingDetokenizer, TokenizerLoadError } from './tokenizer/index.js';
