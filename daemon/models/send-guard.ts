// The send policy at the one place every caller passes through: the registry hands out hosted
// providers wrapped by this guard, bound to the workspace root of the request. Context files from
// ignored files are left out before anything is sent, and a request about an ignored file (the
// file being edited, or a `sources` entry of a raw or chat prompt) is refused. Secret-looking
// files are handled by the HTTP providers themselves (daemon/models/http/common.ts).
import { ModelError } from './errors.js';
import type { IgnoredPaths } from './ignored-paths.js';
import type { ChatRequest, CompletionRequest, ContextFile, GenerationStream, InfillRequest, ModelProvider } from './provider.js';

function refused(provider: ModelProvider, path: string): ModelError {
  return new ModelError({
    kind: 'refused',
    provider: provider.kind,
    endpoint: provider.endpoint,
    message: `not sent: ${path} is ignored (.gitignore/.caretignore)`,
    fix: 'caret never sends ignored files to a hosted model; use a local provider for this file, or set `hosted = false` if this server is yours',
  });
}

/** Fails at the start of iteration, like every other provider error. */
function failing(error: Error): GenerationStream {
  return {
    // eslint-disable-next-line require-yield
    async *[Symbol.asyncIterator]() {
      throw error;
    },
  };
}

/** `provider` for requests about `root`, with ignored files kept away from it. */
export function guardIgnored(provider: ModelProvider, root: string, ignored: IgnoredPaths): ModelProvider {
  const isIgnored = (path: string) => ignored.isIgnored(root, path);
  const firstIgnored = (paths: readonly string[] | undefined) => paths?.find(isIgnored);
  const keep = (files: readonly ContextFile[] | undefined) => files?.filter((file) => !isIgnored(file.path ?? file.filename));
  const guarded: ModelProvider = Object.create(provider) as ModelProvider;
  if (provider.infill) {
    const infill = provider.infill.bind(provider);
    guarded.infill = (request: InfillRequest) => {
      const hit = request.filename && isIgnored(request.filename) ? request.filename : undefined;
      if (hit) return failing(refused(provider, hit));
      const extra = keep(request.extra);
      return infill(extra ? { ...request, extra } : request);
    };
  }
  if (provider.complete) {
    const complete = provider.complete.bind(provider);
    guarded.complete = (request: CompletionRequest) => {
      const hit = firstIgnored(request.sources);
      return hit ? failing(refused(provider, hit)) : complete(request);
    };
  }
  if (provider.chat) {
    const chat = provider.chat.bind(provider);
    guarded.chat = (request: ChatRequest) => {
      const hit = firstIgnored(request.sources);
      return hit ? failing(refused(provider, hit)) : chat(request);
    };
  }
  return guarded;
}
