// The contract between the models layer and its users for the `embed` role (the index embeds
// chunks through it). Implemented by the onnx provider and the HTTP providers with embeddings.
export interface Embedder {
  /** Stable identity of the model and its settings: the embedding cache key. */
  readonly modelId: string;
  /** Length of every vector it returns. */
  readonly dimensions: number;
  /** Embeds texts in order; rejects with an AbortError when the signal fires. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  dispose?(): Promise<void>;
}
