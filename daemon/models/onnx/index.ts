// The local ONNX runtime: model directories in the Hugging Face Optimum layout run by
// onnxruntime-node in worker threads (causal LMs with prefix KV-cache reuse, embedding models).
export { createOnnxEmbedder, OnnxCausalLm, type GenerateCall, type OnnxCausalLmOptions, type OnnxEmbedderOptions, type OnnxModelOptions } from './models.js';
export { openModelDirectory, modelFileCandidates, type ModelDirectory } from './model-dir.js';
export type { CausalLmInfo, EncoderInfo, GenerateResult, Pooling, VerifyResult } from './engine.js';
export { argmax, topTwo, sampleToken, seededUniform, type SamplingOptions } from './sampling.js';
export { StopMatcher } from './stop.js';
export { commonPrefixLength, PrefixCache, sliceSequence } from './kv-cache.js';
export { OnnxProvider, createOnnxProvider, detectFimTemplate } from './provider.js';
export { stopModelWorkers } from './host.js';
