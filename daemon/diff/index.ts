// The diff room: line hunks between two texts, word-level changes inside them, and the review
// metadata (importance, reading order) that apply attaches to every hunk it proposes.
export { splitLines, lineContent, lineTerminator, dominantEol, lineOffsets } from './lines.js';
export { diffTexts, diffLineArrays, type LineHunk } from './hunks.js';
export { wordEdits, MAX_WORD_DIFF_CHARS, type WordEdit } from './words.js';
export { reviewHunks, topologicalOrder, isWhitespaceOnly, isPureRename, type HunkReview, type Importance } from './review.js';
export { definedNames, usedNames, codeTokens } from './symbols.js';
