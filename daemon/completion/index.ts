// The completion room: inline completion and next-edit prediction, with their latency machinery,
// post-processing, builtin engines and model prompts.
export * from './service.js';
export { CompletionCache, hashText } from './cache.js';
export { AdaptiveDebounce } from './debounce.js';
export { Superseder, SupersededError } from './supersede.js';
export { postprocess, type PostprocessInput, type ProcessedCompletion } from './postprocess.js';
export { bracketsFit, evidenceNeeded, isCommentLine, LOOKED_UP_FACTOR, narrowest, rarestWord, shapeEnd, shapeOf, SimilarCodeEngine, topLevelCloses } from './similar-code.js';
export { DocumentLineIndex, wordKeysOf } from './line-index.js';
export { propagateEdit, proposalKey, indexedRename, renameBetween, vanishedName, type AppliedEdit, type EditProposal, type OffsetEdit } from './next-edit/propagate.js';
export { renderRegionPrompt, parseRegionOutput, filterRegionEdits, zetaFormat, type RegionPromptFormat } from './prompts/edit-region.js';
export { renderChatCompletion, parseChatCompletion } from './prompts/chat.js';
export { templateForModel, modelCompletion, modelRewrite, collectText } from './model-engine.js';
export { editSimilarity } from './text.js';
export { SplicedView, stillReads, type TextView, viewOf } from './text-view.js';
