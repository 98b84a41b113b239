// caret/apply's orchestration: load each document, merge its sketch (or have a model rewrite it),
// check the result, turn it into hunks, stream them, and assemble the versioned WorkspaceEdit.
// I/O comes in through `DocumentSource` and `ModelRewriter`, so this file never touches the disk
// or the network itself; it never writes files at all.
import type { PositionEncodingKind, ResultOf } from '../../protocol/index.js';
import { diffTexts, type LineHunk, splitLines } from '../diff/index.js';
import { ProgressiveDiff } from './progressive.js';
import { buildHunks, type FileChange, type Hunk, hunkEdits } from './hunks.js';
import { leakedMarkers, looksLikeElision } from './markers.js';
import { grammarFor, syntaxErrorCounts } from './syntax-check.js';
import { mergeSketch, type NearLines } from './merge.js';
import { computeLineStarts, offsetAt, positionAt } from '../workspace/index.js';

export type ApplyResult = ResultOf<'caret/apply'>;
export type Unresolved = ApplyResult['unresolved'][number];
export type Strategy = 'auto' | 'merge' | 'model';

export interface SourceDocument {
  uri: string;
  text: string;
  /** The open document's version; null when read from disk. */
  version: number | null;
  languageId?: string;
}

/** A file apply cannot edit at all (binary, missing, unreadable); reported per file. */
export interface SourceProblem {
  uri: string;
  problem: 'binary' | 'unreadable';
  message: string;
}

export interface DocumentSource {
  /** Loads a document; throws ApplyError('contentModified') when `expectedVersion` is given and differs. */
  load(uri: string, expectedVersion: number | null | undefined): Promise<SourceDocument | SourceProblem>;
  /** Whether the document is still exactly what `load` returned. */
  unchanged(document: SourceDocument): Promise<boolean>;
}

export interface RewriteRequest {
  uri: string;
  languageId?: string;
  original: string;
  sketch: string;
  instruction?: string;
  signal: AbortSignal;
  /** Called with the text produced so far, as it grows (for streaming hunks). */
  onProgress?: (textSoFar: string) => void;
}

export interface RewriteResult {
  text: string;
  stats: NonNullable<ApplyResult['stats']['model']>;
}

/** A model that rewrites a whole file from a sketch (speculative edits, Predicted Outputs, plain). */
export interface ModelRewriter {
  readonly description: string;
  rewrite(request: RewriteRequest): Promise<RewriteResult>;
}

export class ApplyError extends Error {
  constructor(
    readonly code: 'contentModified' | 'invalidRequest' | 'noModel' | 'modelFailed',
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

export interface ApplyRequest {
  files: Array<{ uri: string; version?: number | null; sketch: string }>;
  instruction?: string;
  strategy?: Strategy;
}

export interface ApplyIO {
  source: DocumentSource;
  encoding: PositionEncodingKind;
  signal: AbortSignal;
  /** The configured apply model; absent when only the deterministic merge is available. */
  model?: ModelRewriter;
  /** Receives hunks as soon as they are final (one call per file, or per region for model output). */
  onHunks?: (hunks: Hunk[]) => void;
  now?: () => number;
  /** Compare syntax errors before and after with tree-sitter (default true). */
  syntaxCheck?: boolean;
}

interface FileOutcome {
  document: SourceDocument;
  newText: string;
  producedBy: 'merge' | 'model' | 'none';
  /** The model's progressive diff (its streamed hunks come first), when it covers `newText`. */
  lineHunks?: LineHunk[];
}

export async function runApply(request: ApplyRequest, io: ApplyIO): Promise<ApplyResult> {
  const now = io.now ?? (() => performance.now());
  const started = now();
  const strategy = request.strategy ?? 'auto';
  if (strategy === 'model' && !io.model) {
    throw new ApplyError('noModel', 'strategy "model" needs an apply model: set [models.apply] in config.toml (an onnx model directory or an OpenAI-compatible server), or use strategy "merge".');
  }
  const seen = new Set<string>();
  for (const file of request.files) {
    if (seen.has(file.uri)) throw new ApplyError('invalidRequest', `${file.uri} is named twice in files: send one sketch per document.`);
    seen.add(file.uri);
  }

  const unresolved: Unresolved[] = [];
  const outcomes: FileOutcome[] = [];
  /** Hunks already streamed per document (a model's progressive output). */
  const streamed = new Map<string, number>();
  let modelStats: RewriteResult['stats'] | undefined;

  for (const file of request.files) {
    throwIfAborted(io.signal);
    const loaded = await io.source.load(file.uri, file.version);
    if ('problem' in loaded) {
      unresolved.push({ uri: file.uri, kind: loaded.problem, message: loaded.message, sketchText: file.sketch, nearest: [] });
      continue;
    }
    const document = loaded;
    let newText = document.text;
    let producedBy: FileOutcome['producedBy'] = 'none';
    const fileUnresolved: Unresolved[] = [];

    if (strategy !== 'model') {
      const merged = mergeSketch(document.text, file.sketch);
      if (merged.refusal) {
        fileUnresolved.push({
          uri: file.uri,
          kind: merged.refusal.kind,
          message: merged.refusal.message,
          sketchText: file.sketch,
          nearest: merged.refusal.nearest.map((near) => toNearest(document.text, near, io.encoding)),
        });
      } else {
        newText = merged.text;
        producedBy = 'merge';
        for (const region of merged.unresolved) {
          fileUnresolved.push({
            uri: file.uri,
            kind: region.kind,
            message: region.message,
            sketch: { startLine: region.sketchStart, endLine: region.sketchEnd },
            sketchText: region.text,
            nearest: region.nearest.map((near) => toNearest(document.text, near, io.encoding)),
          });
        }
      }
    }

    // A model can place what the merge could not; it cannot invent a sketch that is empty or all markers.
    const modelCanHelp = fileUnresolved.some((item) => item.kind === 'ambiguous' || item.kind === 'unanchored' || item.kind === 'noAnchors');
    const wantModel = strategy === 'model' || (strategy === 'auto' && modelCanHelp && io.model !== undefined);
    let lineHunks: LineHunk[] | undefined;
    if (wantModel && io.model) {
      // Regions of the model's output stream as soon as the output lines up with the original after them.
      const progressive = new ProgressiveDiff(document.text);
      const onProgress = (textSoFar: string) => {
        const fresh = progressive.feed(textSoFar);
        if (fresh.length === 0 || !io.onHunks) return;
        const hunks = buildHunks([{ uri: file.uri, oldText: document.text, newText: textSoFar, lineHunks: fresh }], io.encoding);
        streamed.set(file.uri, (streamed.get(file.uri) ?? 0) + hunks.length);
        io.onHunks(hunks);
      };
      try {
        const rewritten = await io.model.rewrite({
          uri: file.uri,
          ...(document.languageId && { languageId: document.languageId }),
          original: document.text,
          sketch: file.sketch,
          ...(request.instruction && { instruction: request.instruction }),
          signal: io.signal,
          onProgress,
        });
        modelStats = addModelStats(modelStats, rewritten.stats);
        fileUnresolved.length = 0;
        newText = rewritten.text;
        producedBy = 'model';
        if (progressive.consistent(splitLines(newText))) {
          progressive.finish(newText);
          lineHunks = progressive.hunks;
        }
      } catch (error) {
        if (io.signal.aborted || (error as Error).name === 'AbortError') throw error;
        const message = `${io.model.description}: ${(error as Error).message}`;
        if (strategy === 'model') throw new ApplyError('modelFailed', message);
        // auto: the merge's own result stands, and the reason the model did not help is reported.
        fileUnresolved.push({ uri: file.uri, kind: 'model', message: `The apply model could not resolve this file (${message}); the deterministic merge's result is kept.`, sketchText: file.sketch, nearest: [] });
      }
    }

    // Checks before anything is proposed.
    // Only added lines can leak a marker: check the diff's new side, not the whole file.
    const leaked = newText === document.text ? [] : leakedMarkers(diffTexts(document.text, newText).map((hunk) => hunk.newText).join(''), document.text);
    if (leaked.length > 0) {
      fileUnresolved.push({
        uri: file.uri,
        kind: 'check',
        message: `The result would contain elision markers that are not code (${leaked.slice(0, 3).map((line) => JSON.stringify(line)).join(', ')}); nothing was proposed for this file.`,
        sketchText: file.sketch,
        nearest: [],
      });
      newText = document.text;
      producedBy = 'none';
    }
    // Where a grammar exists, the result may not have more syntax errors than the original.
    const grammar = newText !== document.text ? grammarFor(document.uri, document.languageId) : undefined;
    if (grammar && io.syntaxCheck !== false) {
      const counts = await syntaxErrorCounts(grammar, [document.text, newText]);
      if (counts && counts[1]! > counts[0]!) {
        fileUnresolved.push({
          uri: file.uri,
          kind: 'check',
          message: `The result would have ${counts[1]} syntax error${counts[1] === 1 ? '' : 's'} where the document has ${counts[0]} (${grammar} grammar); nothing was proposed for this file. Check the sketch, or apply it with strategy "model".`,
          sketchText: file.sketch,
          nearest: [],
        });
        newText = document.text;
        producedBy = 'none';
      }
    }
    unresolved.push(...fileUnresolved);
    outcomes.push({ document, newText, producedBy, ...(lineHunks && producedBy === 'model' && { lineHunks }) });
  }

  // Every document must still be what the edits were computed against.
  for (const outcome of outcomes) {
    if (!(await io.source.unchanged(outcome.document))) {
      throw new ApplyError('contentModified', `${outcome.document.uri} changed while apply ran; ask again with the current text.`, { uri: outcome.document.uri });
    }
  }
  throwIfAborted(io.signal);

  const changes: FileChange[] = outcomes.map((outcome) => ({
    uri: outcome.document.uri,
    oldText: outcome.document.text,
    newText: outcome.newText,
    ...(outcome.lineHunks && { lineHunks: outcome.lineHunks }),
  }));
  const hunks = buildHunks(changes, io.encoding);
  if (io.onHunks) {
    for (const outcome of outcomes) {
      // A model's file already streamed its first hunks (same hunks, in the same order).
      const ofFile = hunks.filter((hunk) => hunk.uri === outcome.document.uri).slice(outcome.lineHunks ? (streamed.get(outcome.document.uri) ?? 0) : 0);
      if (ofFile.length > 0) io.onHunks(ofFile);
    }
  }

  const documentChanges = outcomes
    .map((outcome) => ({
      textDocument: { uri: outcome.document.uri, version: outcome.document.version },
      edits: hunkEdits(hunks.filter((hunk) => hunk.uri === outcome.document.uri)),
    }))
    .filter((change) => change.edits.length > 0);

  const producers = new Set(outcomes.filter((o) => o.newText !== o.document.text).map((o) => o.producedBy));
  const stats: ApplyResult['stats'] = {
    files: request.files.length,
    hunks: hunks.length,
    linesAdded: hunks.reduce((sum, hunk) => sum + countLines(hunk.newText), 0),
    linesRemoved: hunks.reduce((sum, hunk) => sum + countLines(hunk.oldText), 0),
    unresolved: unresolved.length,
    strategy: producers.size === 0 ? 'none' : producers.size > 1 ? 'mixed' : producers.has('model') ? 'model' : 'merge',
    durationMs: Math.max(0, now() - started),
    ...(modelStats && { model: modelStats }),
  };
  return { edit: { documentChanges }, hunks, unresolved, stats };
}

function toNearest(text: string, near: NearLines, encoding: PositionEncodingKind): Unresolved['nearest'][number] {
  const starts = computeLineStarts(text);
  const offset = (line: number) => (line < starts.length ? starts[line]! : text.length);
  return {
    range: { start: positionAt(text, starts, offset(near.startLine), encoding), end: positionAt(text, starts, offset(near.endLine), encoding) },
    text: near.text,
    similarity: near.similarity,
  };
}

function countLines(text: string): number {
  if (text.length === 0) return 0;
  return computeLineStarts(text).length - (/[\r\n]$/.test(text) ? 1 : 0);
}

function addModelStats(total: RewriteResult['stats'] | undefined, next: RewriteResult['stats']): RewriteResult['stats'] {
  if (!total) return { ...next };
  const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  const merged: RewriteResult['stats'] = { ...total, outputTokens: total.outputTokens + next.outputTokens };
  for (const key of ['forwardPasses', 'acceptedDraftTokens', 'rejectedDraftTokens'] as const) {
    const value = sum(total[key], next[key]);
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw Object.assign(new Error('request cancelled'), { name: 'AbortError' });
}

/** Writes the new text of a selection (caret/edit): a chat model behind it. */
export interface SelectionWriter {
  readonly description: string;
  write(request: { uri: string; languageId?: string; before: string; selection: string; after: string; instruction: string; signal: AbortSignal }): Promise<{ text: string; stats: RewriteResult['stats'] }>;
}

export interface EditRequest {
  uri: string;
  version?: number | null;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  instruction: string;
}

/**
 * caret/edit: the model rewrites the selection following the instruction; its answer is merged as
 * a sketch of the selection (so elisions inside it are honoured), and the result goes through the
 * same checks, hunks and streaming as caret/apply.
 */
export async function runEdit(request: EditRequest, writer: SelectionWriter, io: Omit<ApplyIO, 'model'>): Promise<ApplyResult> {
  const now = io.now ?? (() => performance.now());
  const started = now();
  const loaded = await io.source.load(request.uri, request.version);
  if ('problem' in loaded) throw new ApplyError('invalidRequest', loaded.message);
  const document = loaded;
  const starts = computeLineStarts(document.text);
  let start = offsetAt(document.text, starts, request.range.start, io.encoding);
  let end = offsetAt(document.text, starts, request.range.end, io.encoding);
  if (end < start) [start, end] = [end, start];
  const selection = document.text.slice(start, end);
  const written = await writer.write({
    uri: request.uri,
    ...(document.languageId && { languageId: document.languageId }),
    before: document.text.slice(0, start),
    selection,
    after: document.text.slice(end),
    instruction: request.instruction,
    signal: io.signal,
  });
  throwIfAborted(io.signal);
  const unresolved: Unresolved[] = [];
  let replacement = written.text;
  if (selection.trim() !== '' && replacement.split(/\r?\n/).some((line) => looksLikeElision(line))) {
    const merged = mergeSketch(selection, replacement);
    if (merged.refusal || merged.unresolved.length > 0) {
      unresolved.push({ uri: request.uri, kind: merged.refusal?.kind ?? 'ambiguous', message: `The model's answer elides code that could not be placed: ${merged.refusal?.message ?? merged.unresolved[0]!.message}`, sketchText: written.text, nearest: [] });
      replacement = selection;
    } else replacement = merged.text;
  }
  let newText = document.text.slice(0, start) + replacement + document.text.slice(end);
  const leaked = leakedMarkers(newText, document.text);
  if (leaked.length > 0) {
    unresolved.push({ uri: request.uri, kind: 'check', message: `The result would contain elision markers (${leaked.slice(0, 3).join(', ')}); nothing was proposed.`, sketchText: written.text, nearest: [] });
    newText = document.text;
  }
  if (!(await io.source.unchanged(document))) {
    throw new ApplyError('contentModified', `${request.uri} changed while the edit was written; ask again.`, { uri: request.uri });
  }
  const hunks = buildHunks([{ uri: request.uri, oldText: document.text, newText }], io.encoding);
  if (hunks.length > 0) io.onHunks?.(hunks);
  const edits = hunkEdits(hunks);
  return {
    edit: { documentChanges: edits.length ? [{ textDocument: { uri: request.uri, version: document.version }, edits }] : [] },
    hunks,
    unresolved,
    stats: {
      files: 1,
      hunks: hunks.length,
      linesAdded: hunks.reduce((sum, hunk) => sum + countLines(hunk.newText), 0),
      linesRemoved: hunks.reduce((sum, hunk) => sum + countLines(hunk.oldText), 0),
      unresolved: unresolved.length,
      strategy: hunks.length ? 'model' : 'none',
      durationMs: Math.max(0, now() - started),
      model: written.stats,
    },
  };
}
