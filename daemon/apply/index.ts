// The apply room: a sketch becomes exact, reviewable edits. The deterministic merge, its checks,
// hunks for review, and model rewriting (speculative edits, Predicted Outputs) when asked.
export { mergeSketch, closesOutside, alignLines, longestIncreasing, nearestLines, type MergeResult, type UnresolvedRegion, type NearLines, type MergeRefusal } from './merge.js';
export { looksLikeElision, leakedMarkers } from './markers.js';
export { placeBetweenContexts, placeRunByContext, type ContextPairPlacement, type RunPlacement } from './run-placement.js';
export { edgeDeletionIsSafe, definedNames } from './edge-lines.js';
export { lineSimilarity, isTrivialLine, maxSimilarity, profile, profileSimilarity, squash } from './similarity.js';
export { detectIndent, Reindenter, type IndentStyle } from './indentation.js';
export { buildHunks, hunkEdits, inReadingOrder, type Hunk, type FileChange } from './hunks.js';
export {
  runApply,
  runEdit,
  type SelectionWriter,
  type EditRequest,
  ApplyError,
  type ApplyRequest,
  type ApplyIO,
  type ApplyResult,
  type DocumentSource,
  type SourceDocument,
  type SourceProblem,
  type ModelRewriter,
  type RewriteRequest,
  type RewriteResult,
  type Strategy,
} from './service.js';
export { EditorDocumentSource, looksBinary, MAX_APPLY_FILE_BYTES, type OpenDocumentLookup } from './document-source.js';
export { speculativeDecode, greedyDecode, DraftIndex, type Verifier, type SpeculativeOptions, type SpeculativeResult } from './speculative.js';
export { rewriterFor, ChatSelectionWriter, SpeculativeRewriter, ProviderRewriter, localVerifier, rewritePrompt, rewriteMessages, extractRewrite, partialRewrite, REWRITE_STOP, type LocalCausalLm } from './model-apply.js';
export { grammarFor, syntaxErrorCounts, stopSyntaxWorker } from './syntax-check.js';
export { ProgressiveDiff } from './progressive.js';
