// A model for completion tests that runs in the process: it speaks the provider interface (FIM,
// streamed in 1,000-character pieces) and answers whatever `answer` gives for the prompt's prefix.
import type { GenerationStream, ModelProvider, ModelResolver } from '../../daemon/models/index.js';

export function memoryModel(answer: (prefix: string, signal?: AbortSignal) => Promise<string> | string): ModelResolver {
  const model: ModelProvider = {
    kind: 'llamacpp',
    model: 'test',
    endpoint: 'memory:',
    id: 'test',
    capabilities: { fim: 'native', completion: false, chat: false, tools: false, streaming: true, embeddings: false, predictedOutputs: false, promptCaching: false, contextLength: 4096, hosted: false },
    infill: (request): GenerationStream => (async function* () {
      const text = await answer(request.prefix, request.signal);
      for (let i = 0; i < text.length; i += 1000) yield { type: 'text' as const, text: text.slice(i, i + 1000) };
      yield { type: 'done' as const, finishReason: 'stop' as const };
    })(),
  };
  return { resolve: () => model, embedder: () => undefined };
}
