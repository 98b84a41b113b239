// Drains a generation stream into what tests compare.
import type { FinishReason, GenerationStream, ToolCall, Usage } from '../../daemon/models/index.js';
import { ModelRegistry, type ModelsSettings } from '../../daemon/models/index.js';

export interface Collected {
  text: string;
  chunks: string[];
  toolCalls: ToolCall[];
  finishReason?: FinishReason;
  usage?: Usage;
  doneEvents: number;
}

export async function collect(stream: GenerationStream): Promise<Collected> {
  const out: Collected = { text: '', chunks: [], toolCalls: [], doneEvents: 0 };
  for await (const event of stream) {
    if (event.type === 'text') {
      out.text += event.text;
      out.chunks.push(event.text);
    } else if (event.type === 'toolCall') out.toolCalls.push(event.call);
    else {
      out.doneEvents++;
      out.finishReason = event.finishReason;
      if (event.usage) out.usage = event.usage;
    }
  }
  return out;
}

/** A registry over a fixed [models] section and environment, as the daemon builds it. */
export function registryWith(models: ModelsSettings, env: Record<string, string> = {}): ModelRegistry {
  return new ModelRegistry({ settings: () => models, processEnv: env, cpus: 2 });
}

/** The embed role's embedder once its vector length is known (the registry probes the server once). */
export async function readyEmbedder(registry: ModelRegistry) {
  const first = registry.embedder();
  if (first) return first;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dimension probe answer: ${registry.embedderProblem() ?? 'pending'}`)), 5000);
    registry.once('change', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const ready = registry.embedder();
  if (!ready) throw new Error('embedder still not ready');
  return ready;
}
