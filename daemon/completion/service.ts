// The completion service: one per daemon, shared by every connection. It owns the latency
// machinery (cache before debounce, typing-through, adaptive debounce, supersede-and-cancel per
// document, prefetch after accept, a hard cap on model time), runs the engine the configuration
// picks (the builtin engines, or a model), post-processes, and remembers what it suggested so
// the client's didShow / accept / didReject events can name it by id.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { ModelProvider, ModelResolver, ResolveScope } from '../models/index.js';
import { CompletionCache } from './cache.js';
import { AdaptiveDebounce } from './debounce.js';
import { modelCompletion, modelRewrite, raceAbort } from './model-engine.js';
import { type AppliedEdit, type EditDocument, type EditProposal, propagateEdit, proposalKey, indexedRename } from './next-edit/propagate.js';
import { postprocess } from './postprocess.js';
import { EstimatedTokenCounter, editElements, renderPrompt, SnippetRing, toInfillParts } from '../context/index.js';
import { filterRegionEdits, parseRegionOutput, renderRegionPrompt } from './prompts/edit-region.js';
import { SimilarCodeEngine } from './similar-code.js';
import { Superseder } from './supersede.js';
import { SplicedView, stillReads, type TextView, viewOf } from './text-view.js';

export interface CompletionSettings {
  enabled: boolean;
  minConfidence: number;
  maxModelMs: number;
  debounceMinMs: number;
  debounceMaxMs: number;
  prefetch: boolean;
  prefetchPerMinute: number;
  maxLines: number;
  maxTokens: number;
  jumpLines: number;
}

export const defaultCompletionSettings: CompletionSettings = {
  enabled: true,
  minConfidence: 0.5,
  maxModelMs: 2000,
  debounceMinMs: 25,
  debounceMaxMs: 400,
  prefetch: true,
  prefetchPerMinute: 30,
  maxLines: 20,
  maxTokens: 128,
  jumpLines: 15,
};

/**
 * An open document as the service sees it (the workspace's TextDocument fits). With a snapshot,
 * a cache or typing-through hit reads windows of it and never the whole text.
 */
export interface ServiceDocument extends EditDocument {
  readonly lineStarts?: readonly number[];
  readonly snapshot?: TextView;
}

/** The edit history (the workspace's EditHistory fits). */
export interface HistorySource {
  editsOf(uri: string): ReadonlyArray<{ uri: string; version: number; offset: number; deletedText: string; insertedText: string; updatedAt: number }>;
  recent(limit?: number): Array<{ uri: string; version: number; offset: number; deletedText: string; insertedText: string; updatedAt: number }>;
}

type IndexHits = ReadonlyArray<{ path: string; snippet: string; startLine: number; /** The snippet's first line (0-based). */ snippetLine?: number }>;

export interface CompletionServiceOptions {
  history: HistorySource;
  /** Every document open on any connection. */
  openDocuments: () => Iterable<ServiceDocument>;
  models?: ModelResolver;
  settings?: (root?: string) => Partial<CompletionSettings> | undefined;
  log?: { warn(message: string, fields?: Record<string, unknown>): void; debug(message: string, fields?: Record<string, unknown>): void };
  /** Index other documents synchronously (tests and benchmarks). */
  eagerIndexing?: boolean;
  /**
   * Lexical search of a workspace root's index: where the builtin engine looks when the open
   * documents have no similar code. Called in the background, never on a keystroke's path.
   */
  searchIndex?: (root: string, query: string, limit: number) => IndexHits | Promise<IndexHits>;
}

export interface InlineRequest {
  /** Who asks: supersession is per connection and document. */
  sessionKey: string;
  document: ServiceDocument;
  offset: number;
  trigger: 'invoked' | 'automatic';
  /** The completion widget's selected item: suggestions must extend it over its range. */
  selected?: { start: number; end: number; text: string };
  scope?: ResolveScope;
  filename?: string;
}

export interface InlineSuggestion {
  id: string;
  insertText: string;
  /** Range replaced, in offsets of the request's document text. */
  start: number;
  end: number;
  engine: string;
  fromCache: boolean;
}

export interface NextEditRequest {
  sessionKey: string;
  document: ServiceDocument;
  offset: number;
  scope?: ResolveScope;
  filename?: string;
}

export type NextEditSuggestionOut =
  | {
      id: string;
      proposal: EditProposal;
      /** The document the edits are for (the request's or another open one). */
      target: ServiceDocument;
      jump: boolean;
    }
  | {
      id: string;
      site: IndexSite;
    };

/**
 * A site in a file that is not open, found through the workspace index: only a place to jump to
 * (no version can be named for its edit); asked again there, the file is open. `character` is in
 * UTF-16 code units of `lineText`.
 */
export interface IndexSite {
  uri: string;
  line: number;
  character: number;
  lineText: string;
  reason: string;
}

/** How long a next edit waits for the workspace index (its search thread) before answering without it. */
export const INDEX_JUMP_MS = 1000;
/** Index hits a next edit looks through for a site. */
const INDEX_JUMP_HITS = 8;

interface SuggestionRecord {
  uri: string;
  /**
   * The text the suggestion was made for (immutable) and the cursor in it. Cache keys are
   * taken from it when needed, prefetch reads it whole: a record holds no copy of any text, so
   * the 500 kept cost a few pointers each (and nothing for the garbage collector to copy).
   */
  view: TextView;
  cursor: number;
  insertText: string;
  replaceLength: number;
  languageId: string;
  engine: string;
  scope?: ResolveScope;
  filename?: string;
  shown: boolean;
}

export interface CompletionStats {
  requests: number;
  cacheHits: number;
  superseded: number;
  timedOut: number;
  shown: number;
  accepted: number;
  partiallyAccepted: number;
  rejected: number;
  prefetched: number;
  nextEditOffered: number;
  nextEditAccepted: number;
  nextEditRejected: number;
  modelErrors: number;
}

const BUILTIN = 'builtin';

/** The command every inline item carries (served through workspace/executeCommand); its argument is the item's id. */
export const ACCEPT_INLINE_COMPLETION_COMMAND = 'caret.inlineCompletion.accept';

export class CompletionService {
  readonly cache = new CompletionCache();
  readonly debounce: AdaptiveDebounce;
  readonly stats: CompletionStats = {
    requests: 0, cacheHits: 0, superseded: 0, timedOut: 0, shown: 0, accepted: 0, partiallyAccepted: 0,
    rejected: 0, prefetched: 0, nextEditOffered: 0, nextEditAccepted: 0, nextEditRejected: 0, modelErrors: 0,
  };
  private readonly similar: SimilarCodeEngine;
  private readonly superseder = new Superseder();
  private readonly records = new Map<string, SuggestionRecord>();
  private readonly rejectedSpots = new Set<string>();
  private readonly nextEdits = new Map<string, string>();
  private readonly rejectedEdits = new Set<string>();
  private readonly snippets = new SnippetRing(16);
  private readonly tokens = new EstimatedTokenCounter();
  private readonly prefetchTimes: number[] = [];
  private readonly background = new Set<AbortController>();
  /** Snippets from index lookups, with the URI their file has when open. */
  private readonly indexHits = new Map<string, ServiceDocument & { path: string; fileUri: string }>();
  private readonly indexQueries = new Set<string>();
  private indexLookup: Promise<void> | undefined;
  /** Bumped by forgetIndexHits: a lookup begun before it brings nothing in. */
  private indexGeneration = 0;
  private requestsSincePrune = 0;
  private nextId = 1;
  private disposed = false;

  constructor(private readonly options: CompletionServiceOptions) {
    const settings = this.settings();
    this.debounce = new AdaptiveDebounce({ minMs: settings.debounceMinMs, maxMs: settings.debounceMaxMs });
    this.similar = new SimilarCodeEngine({ eager: options.eagerIndexing ?? false });
  }

  settings(root?: string): CompletionSettings {
    return { ...defaultCompletionSettings, ...(this.options.settings?.(root) ?? {}) };
  }

  /** Inline suggestions at a cursor; [] when there is nothing worth showing or a newer request won. */
  async inline(request: InlineRequest, signal: AbortSignal): Promise<InlineSuggestion[]> {
    const settings = this.settings(request.scope?.root);
    if (!settings.enabled || this.disposed) return [];
    this.stats.requests++;
    const { document } = request;
    const version = document.version;
    // Up to a hit, only windows of the text are read: a keystroke's cost stays independent of the
    // document's size. The whole text is read (joined once per version) when an engine runs.
    const original = viewOf(document);
    const offset = Math.max(0, Math.min(request.offset, original.length));
    // With a selected completion item, complete as if it were inserted, then extend it.
    const selected = request.selected && request.selected.start <= request.selected.end && request.selected.end <= original.length ? request.selected : undefined;
    const view = selected ? new SplicedView(original, selected.start, selected.end, selected.text) : original;
    const cursor = selected ? selected.start + selected.text.length : offset;
    const { prefix: prefixWindow, suffix: suffixWindow } = this.windowsOf(view, cursor);
    const automatic = request.trigger === 'automatic';
    if (automatic) this.debounce.recordKeystroke(document.uri, Date.now());
    const spot = this.cache.key(document.uri, prefixWindow, suffixWindow);
    if (automatic && this.rejectedSpots.has(spot)) return [];

    const finish = (insertText: string, replaceLength: number, engine: string, fromCache: boolean): InlineSuggestion[] => {
      const id = this.remember({ uri: document.uri, view, cursor, insertText, replaceLength, languageId: document.languageId, engine, scope: request.scope, filename: request.filename, shown: false });
      const start = selected ? selected.start : offset;
      const end = (selected ? selected.end : offset) + replaceLength;
      return [{ id, insertText: (selected?.text ?? '') + insertText, start, end, engine, fromCache }];
    };

    // The cache comes before any debounce: a hit answers at once.
    const cached = this.cache.get(document.uri, prefixWindow, suffixWindow);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached ? finish(cached.insertText, cached.replaceLength, cached.engine, true) : [];
    }

    const slot = this.superseder.begin(`${request.sessionKey}\u0000${document.uri}`, signal);
    try {
      const text = view.text;
      const prefix = text.slice(0, cursor);
      const suffix = text.slice(cursor);
      const provider = this.provider('completion', request.scope);
      let raw: { text: string; confidence: number } | null;
      let engine = BUILTIN;
      if (!provider) {
        const others = this.others(document.uri);
        raw = this.similar.complete({ document: { ...document, text, version: selected ? -version - 1 : version }, offset: cursor, others, lookedUp: this.indexHitsBeside(document.uri, others) });
        if ((!raw || raw.confidence < settings.minConfidence) && request.scope?.root) this.lookUpIndex(request.scope.root, document, text, cursor);
        if (++this.requestsSincePrune >= 200) {
          this.requestsSincePrune = 0;
          this.similar.retain(new Set([document.uri, ...others.map((other) => other.uri), ...this.indexHits.keys()]));
        }
      } else {
        engine = `${provider.kind}:${provider.model}`;
        if (automatic) await sleep(this.debounce.delayMs(), undefined, { signal: slot.signal });
        // Index results join later prompts as context; the lookup never delays this one.
        if (request.scope?.root) this.lookUpIndex(request.scope.root, document, text, cursor);
        raw = await this.askModel(provider, { ...request, document: { ...document, text } }, cursor, slot.signal, settings);
      }
      if (slot.superseded) {
        this.stats.superseded++;
        return [];
      }
      signal.throwIfAborted();
      // The document changed (or closed) while the engine ran: the answer would be stale.
      if (document.version !== version || !stillReads(document, original)) return [];
      const processed = raw
        ? postprocess({ prefix, suffix, raw: raw.text, confidence: raw.confidence, minConfidence: provider ? 0 : settings.minConfidence, maxLines: settings.maxLines })
        : null;
      this.cache.set(document.uri, prefix, suffix, processed ? { ...processed, engine } : null);
      return processed ? finish(processed.insertText, processed.replaceLength, engine, false) : [];
    } catch (error) {
      if (slot.superseded) {
        this.stats.superseded++;
        return [];
      }
      throw error;
    } finally {
      slot.release();
    }
  }

  /** The model's answer under the hard time cap; null when it timed out or failed. */
  private async askModel(provider: ModelProvider, request: InlineRequest, cursor: number, signal: AbortSignal, settings: CompletionSettings): Promise<{ text: string; confidence: number } | null> {
    const capped = AbortSignal.any([signal, AbortSignal.timeout(settings.maxModelMs)]);
    const started = performance.now();
    const { document } = request;
    const filename = request.filename ?? document.uri;
    try {
      const text = await modelCompletion(provider, { parts: this.promptParts(provider, document, filename, cursor, settings), languageId: document.languageId, maxTokens: settings.maxTokens }, capped);
      this.debounce.recordLatency(performance.now() - started);
      return { text, confidence: 1 };
    } catch (error) {
      if (signal.aborted) throw error;
      if (capped.aborted) {
        this.stats.timedOut++;
        this.debounce.recordLatency(settings.maxModelMs);
        return null;
      }
      this.stats.modelErrors++;
      this.options.log?.warn('completion model failed', { error: (error as Error).message });
      return null;
    }
  }

  /**
   * The prompt's parts through daemon/context: the cursor window, snippets of code the user
   * worked in (a ring, oldest first, so the prompt's start stays stable and caches hit) and the
   * recent edits, fitted into the model's context length.
   */
  private promptParts(provider: ModelProvider, document: ServiceDocument, filename: string, cursor: number, settings: CompletionSettings) {
    const text = document.text;
    const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
    const snippetStart = startOfLineAbove(text, lineStart, 32);
    const snippetEnd = endOfLineBelow(text, cursor, 32);
    this.snippets.add({ path: filename, start: lineOf(text, snippetStart), end: lineOf(text, snippetEnd) + 1, text: text.slice(snippetStart, snippetEnd) });
    const windowStart = startOfLineAbove(text, lineStart, 400);
    const windowEnd = endOfLineBelow(text, cursor, 150);
    const edits = editElements(this.options.history.recent(8).map((edit) => ({ ...edit, startedAt: edit.updatedAt })), { pathOf: (uri) => (uri === document.uri ? filename : uri) });
    const hits = [...this.indexHits.values()].map((hit, order) => ({
      id: hit.uri,
      kind: 'indexResult' as const,
      path: hit.path,
      order,
      text: hit.text,
    }));
    const rendered = renderPrompt(
      [...edits, ...this.snippets.elements().filter((element) => element.path !== filename), ...hits],
      { path: filename, prefix: text.slice(windowStart, cursor), suffix: text.slice(cursor, windowEnd), startLine: lineOf(text, windowStart) },
      { budget: Math.max(256, provider.capabilities.contextLength - settings.maxTokens), counter: provider.tokenizer ?? this.tokens },
    );
    return toInfillParts(rendered);
  }

  shown(id: string): void {
    const record = this.records.get(id);
    if (!record || record.shown) return;
    record.shown = true;
    this.stats.shown++;
  }

  /** The user accepted a suggestion (the item's command ran): prefetch what comes next. */
  accepted(id: string): boolean {
    const record = this.records.get(id);
    if (!record) return false;
    this.stats.accepted++;
    this.records.delete(id);
    if (this.settings(record.scope?.root).prefetch) this.prefetch(record);
    return true;
  }

  partiallyAccepted(id: string, acceptedUnits: number): boolean {
    const record = this.records.get(id);
    if (!record) return false;
    this.stats.partiallyAccepted++;
    // The rest stays available: typing-through entries of the cache already cover it; make sure
    // the exact remainder is there even past their limit.
    const accepted = record.insertText.slice(0, acceptedUnits);
    const rest = record.insertText.slice(accepted.length);
    const { prefix, suffix } = this.windowsOf(record.view, record.cursor);
    if (rest.trim()) this.cache.set(record.uri, prefix + accepted, suffix, { insertText: rest, replaceLength: record.replaceLength, engine: record.engine });
    return true;
  }

  rejected(id: string): boolean {
    const record = this.records.get(id);
    if (!record) return false;
    this.stats.rejected++;
    this.records.delete(id);
    const { prefix, suffix } = this.windowsOf(record.view, record.cursor);
    this.rejectedSpots.add(this.cache.key(record.uri, prefix, suffix));
    if (this.rejectedSpots.size > 1000) this.rejectedSpots.delete(this.rejectedSpots.values().next().value!);
    return true;
  }

  /** The text around a cursor that cache keys hash: keys from these equal keys from the whole prefix and suffix. */
  private windowsOf(view: TextView, cursor: number): { prefix: string; suffix: string } {
    return { prefix: view.slice(Math.max(0, cursor - this.cache.prefixWindow), cursor), suffix: view.slice(cursor, cursor + this.cache.suffixWindow) };
  }

  /** Looks up a suggestion (for encoding conversions in the route). */
  suggestion(id: string): { insertText: string } | undefined {
    return this.records.get(id);
  }

  /** Requests the next completion as if the accepted text were typed, within the budget. */
  private prefetch(record: SuggestionRecord): void {
    const now = Date.now();
    while (this.prefetchTimes.length && now - this.prefetchTimes[0]! > 60_000) this.prefetchTimes.shift();
    const settings = this.settings(record.scope?.root);
    if (this.prefetchTimes.length >= settings.prefetchPerMinute) return;
    this.prefetchTimes.push(now);
    const suffix = record.view.slice(record.cursor + record.replaceLength);
    const prefix = record.view.slice(0, record.cursor) + record.insertText;
    if (this.cache.get(record.uri, prefix, suffix) !== undefined) return;
    const controller = new AbortController();
    this.background.add(controller);
    const document = { uri: record.uri, languageId: record.languageId, version: -now, text: prefix + suffix };
    void (async () => {
      try {
        const provider = this.provider('completion', record.scope);
        const raw = provider
          ? await this.askModel(provider, { sessionKey: 'prefetch', document, offset: prefix.length, trigger: 'invoked', scope: record.scope, filename: record.filename }, prefix.length, controller.signal, settings)
          : this.similar.complete({ document, offset: prefix.length, others: this.others(record.uri) });
        const processed = raw ? postprocess({ prefix, suffix, raw: raw.text, confidence: raw.confidence, minConfidence: provider ? 0 : settings.minConfidence, maxLines: settings.maxLines }) : null;
        this.cache.set(record.uri, prefix, suffix, processed ? { ...processed, engine: record.engine } : null);
        this.stats.prefetched++;
      } catch (error) {
        this.options.log?.debug('prefetch failed', { error: (error as Error).message });
      } finally {
        this.background.delete(controller);
      }
    })();
  }

  /**
   * Asks the workspace index, in the background, for code like the line being typed; the hits
   * join the builtin engine's sources for the next keystrokes. One lookup at a time, each query
   * once.
   */
  private lookUpIndex(root: string, document: ServiceDocument, text: string, cursor: number): void {
    const search = this.options.searchIndex;
    if (!search || this.indexLookup) return;
    const typed = text.slice(text.lastIndexOf('\n', cursor - 1) + 1, cursor);
    const words = (typed.match(/[A-Za-z_$][\w$]{2,}/g) ?? []).slice(0, 3);
    if (words.length === 0) return;
    const key = `${root}\u0000${words.join(' ')}`;
    if (this.indexQueries.has(key)) return;
    this.indexQueries.add(key);
    if (this.indexQueries.size > 500) this.indexQueries.delete(this.indexQueries.values().next().value!);
    const extension = /\.[^./]+$/.exec(document.uri)?.[0];
    const generation = this.indexGeneration;
    this.indexLookup = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      try {
        const hits = await search(root, words.join(' '), 8);
        if (generation !== this.indexGeneration) return;
        for (const hit of hits) {
          if (/\.[^./]+$/.exec(hit.path)?.[0] !== extension) continue;
          const uri = `caret-index:${root}/${hit.path}#${hit.startLine}`;
          this.indexHits.delete(uri);
          this.indexHits.set(uri, { uri, languageId: document.languageId, version: 1, text: hit.snippet, path: hit.path, fileUri: pathToFileURL(join(root, hit.path)).href });
          while (this.indexHits.size > 40) {
            const oldest = this.indexHits.keys().next().value!;
            this.indexHits.delete(oldest);
            this.similar.forget(oldest);
          }
        }
      } catch (error) {
        // The index may still be building, or absent for this root: the open documents suffice.
        this.options.log?.debug('index lookup for completion failed', { error: (error as Error).message });
      } finally {
        this.indexLookup = undefined;
      }
    });
  }

  /**
   * The index's snippets of files that are neither `uri` nor open: an open document is already a
   * source, whole and as edited (the index has the saved text), and a snippet of it would count
   * its lines a second time.
   */
  private indexHitsBeside(uri: string, others: readonly ServiceDocument[]): ServiceDocument[] {
    if (this.indexHits.size === 0) return [];
    const open = new Set(others.map((other) => other.uri)).add(uri);
    return [...this.indexHits.values()].filter((hit) => !open.has(hit.fileUri));
  }

  /**
   * Drops what earlier index lookups brought in, and lets every query be asked again: the
   * index's files changed under them (a branch switch, a resync), so their snippets may no longer
   * be the workspace's code.
   */
  forgetIndexHits(): void {
    for (const uri of this.indexHits.keys()) this.similar.forget(uri);
    this.indexHits.clear();
    this.indexQueries.clear();
    this.indexGeneration++;
  }

  /** Resolves once background work (prefetch, other documents' indexing, index lookups) is done. */
  async idle(): Promise<void> {
    await this.indexLookup;
    await this.similar.idle();
    while (this.background.size > 0) await sleep(2);
  }

  /** One next-edit suggestion, or null. */
  async nextEdit(request: NextEditRequest, signal: AbortSignal): Promise<NextEditSuggestionOut | null> {
    const settings = this.settings(request.scope?.root);
    if (!settings.enabled || this.disposed) return null;
    const { document } = request;
    const version = document.version;
    const slot = this.superseder.begin(`${request.sessionKey}\u0000next\u0000${document.uri}`, signal);
    try {
      const others = this.others(document.uri);
      const edits = this.lastEdits(document, others);
      const edit = edits[0];
      if (!edit) return null;
      const provider = this.provider('nextEdit', request.scope);
      let proposal: EditProposal | undefined;
      if (!provider) {
        for (const each of edits) {
          proposal = propagateEdit({ edit: each, document, cursorOffset: request.offset, others, rejected: this.rejectedEdits, limit: 1 })[0];
          if (proposal) break;
        }
        if (!proposal && request.scope?.root) {
          const site = await this.indexSite(edit, document, others, request.scope.root, slot.signal);
          if (slot.superseded || !site || document.version !== version) return null;
          signal.throwIfAborted();
          return { id: this.offerNextEdit(siteKey(site)), site };
        }
      } else {
        proposal = await this.modelNextEdit(provider, request, edit, slot.signal, settings);
      }
      if (slot.superseded || !proposal) return null;
      signal.throwIfAborted();
      if (document.version !== version) return null;
      const target = proposal.uri === document.uri ? document : others.find((other) => other.uri === proposal!.uri);
      if (!target || target.version !== proposal.version) return null;
      const id = this.offerNextEdit(proposalKey(proposal));
      const jump = target !== document || Math.abs(lineOf(document.text, proposal.anchor) - lineOf(document.text, request.offset)) > settings.jumpLines;
      return { id, proposal, target, jump };
    } catch (error) {
      if (slot.superseded) return null;
      throw error;
    } finally {
      slot.release();
    }
  }

  /** A new suggestion id, remembered with `key` (see proposalKey, siteKey) for didAccept and didReject. */
  private offerNextEdit(key: string): string {
    const id = `e${this.nextId++}`;
    this.nextEdits.set(id, key);
    if (this.nextEdits.size > 500) this.nextEdits.delete(this.nextEdits.keys().next().value!);
    this.stats.nextEditOffered++;
    return id;
  }

  /**
   * Where neither the document nor the open ones have a site, for an edit that renamed a name:
   * the first site the edit's rule finds in what the workspace index holds for the old name, in a
   * file of the same language that is not open. The lookup runs in the index's search thread;
   * past INDEX_JUMP_MS the answer goes without it.
   */
  private async indexSite(edit: AppliedEdit, document: ServiceDocument, others: readonly ServiceDocument[], root: string, signal: AbortSignal): Promise<IndexSite | undefined> {
    const search = this.options.searchIndex;
    const editDocument = edit.uri === document.uri ? document : others.find((other) => other.uri === edit.uri);
    if (!search || !editDocument) return undefined;
    const rename = indexedRename(edit, editDocument.text);
    if (!rename) return undefined;
    const name = rename.name;
    let hits: IndexHits | undefined;
    try {
      hits = await withinBudget(Promise.resolve(search(root, name, INDEX_JUMP_HITS)), INDEX_JUMP_MS, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      this.options.log?.debug('next edit: index lookup failed', { error: String(error) });
      return undefined;
    }
    if (!hits) return undefined;
    const open = new Set([document.uri, ...others.map((other) => other.uri)]);
    const family = languageFamily(edit.uri);
    for (const hit of hits) {
      const uri = pathToFileURL(join(root, hit.path)).href;
      // Open files were searched already; prose and other languages only share the word.
      if (open.has(uri) || languageFamily(hit.path) !== family || (rename.prose && !hit.snippet.includes(rename.line))) continue;
      // The rule is run on the hit's few lines (the site is found there; its edit is made, with
      // the file's version, once the file is open).
      const lines = { uri, languageId: document.languageId, version: 0, text: hit.snippet };
      const [found] = propagateEdit({ edit, document: lines, cursorOffset: 0, others: [editDocument], limit: 1 }).filter((proposal) => proposal.uri === uri);
      if (!found) continue;
      const before = hit.snippet.slice(0, found.anchor);
      const lineInSnippet = before.split('\n').length - 1;
      const lineStart = before.lastIndexOf('\n') + 1;
      const lineEnd = hit.snippet.indexOf('\n', found.anchor);
      const site: IndexSite = {
        uri,
        line: (hit.snippetLine ?? hit.startLine) + lineInSnippet,
        character: found.anchor - lineStart,
        lineText: hit.snippet.slice(lineStart, lineEnd < 0 ? hit.snippet.length : lineEnd),
        reason: found.reason,
      };
      if (!this.rejectedEdits.has(siteKey(site))) return site;
    }
    return undefined;
  }

  private async modelNextEdit(provider: ModelProvider, request: NextEditRequest, edit: AppliedEdit, signal: AbortSignal, settings: CompletionSettings): Promise<EditProposal | undefined> {
    const { document } = request;
    const recent = this.options.history.editsOf(document.uri).slice(-5).reverse();
    const recentEdits = recent.map((e) => {
      const around = (text: string, at: number) => text.slice(text.lastIndexOf('\n', at - 200) + 1, at + 200);
      const after = around(document.text, e.offset);
      return { uri: request.filename ?? document.uri, before: after.replace(e.insertedText, e.deletedText), after };
    });
    const prompt = renderRegionPrompt({ filename: request.filename ?? document.uri, text: document.text, cursorOffset: request.offset, recentEdits });
    const capped = AbortSignal.any([signal, AbortSignal.timeout(settings.maxModelMs * 2)]);
    let output: string;
    try {
      output = await modelRewrite(provider, prompt.prompt, settings.maxTokens * 4, capped, [request.filename ?? document.uri]);
    } catch (error) {
      if (signal.aborted) throw error;
      this.stats.modelErrors++;
      this.options.log?.warn('next-edit model failed', { error: (error as Error).message });
      return undefined;
    }
    const edits = parseRegionOutput(output, prompt, document.text);
    if (!edits) return undefined;
    const userEdits = [edit, ...recent.filter((e) => e.version === document.version)];
    const kept = filterRegionEdits(edits, prompt, document.text, userEdits);
    if (kept.length === 0) return undefined;
    const proposal = { uri: document.uri, version: document.version, edits: kept, reason: 'model prediction', anchor: kept[0]!.start };
    return this.rejectedEdits.has(proposalKey(proposal)) ? undefined : proposal;
  }

  /** What `caret doctor` shows: the engines in use and how suggestions fared. */
  doctor(): { name: string; status: 'ok' | 'warn' | 'error'; detail: string; fix?: string } {
    const settings = this.settings();
    const engineOf = (role: 'completion' | 'nextEdit') => {
      const provider = this.provider(role);
      return provider ? `${provider.kind}${provider.model ? ` (${provider.model})` : ''}` : 'builtin';
    };
    const { stats } = this;
    const detail =
      `completion: ${engineOf('completion')}, next edit: ${engineOf('nextEdit')}; ` +
      `${stats.requests} requests, ${stats.cacheHits} cache hits, ${stats.shown} shown, ${stats.accepted} accepted, ${stats.rejected} rejected; ` +
      `${stats.timedOut} over the ${settings.maxModelMs} ms cap, ${stats.modelErrors} model errors`;
    if (!settings.enabled) return { name: 'completion', status: 'warn', detail: `disabled; ${detail}`, fix: 'Set completion.enabled = true in config.toml' };
    const modelCalls = stats.requests - stats.cacheHits;
    if (modelCalls >= 20 && stats.timedOut / modelCalls > 0.2) {
      return { name: 'completion', status: 'warn', detail, fix: 'The completion model is often slower than completion.maxModelMs: use a smaller model, a closer server, or raise the cap' };
    }
    return { name: 'completion', status: 'ok', detail };
  }

  nextEditAccepted(id: string): boolean {
    if (!this.nextEdits.delete(id)) return false;
    this.stats.nextEditAccepted++;
    return true;
  }

  nextEditRejected(id: string): boolean {
    const key = this.nextEdits.get(id);
    if (key === undefined) return false;
    this.nextEdits.delete(id);
    this.stats.nextEditRejected++;
    this.rejectedEdits.add(key);
    if (this.rejectedEdits.size > 1000) this.rejectedEdits.delete(this.rejectedEdits.values().next().value!);
    return true;
  }

  /** A document closed on a connection: cancel its work there. */
  documentClosed(sessionKey: string, uri: string): void {
    this.superseder.cancel(`${sessionKey}\u0000${uri}`);
    this.superseder.cancel(`${sessionKey}\u0000next\u0000${uri}`);
  }

  dispose(): void {
    this.disposed = true;
    for (const controller of this.background) controller.abort();
    this.cache.clear();
  }

  /**
   * The edits to propagate, newest first: the document's own last edit and the latest edit
   * anywhere (in an open document), each only while it still describes its document's text. The
   * newest leads: after a jump into a file, the edit just made elsewhere, not an old one of its own.
   */
  private lastEdits(document: ServiceDocument, others: readonly ServiceDocument[]): AppliedEdit[] {
    const own = this.options.history.editsOf(document.uri);
    const candidates = [own[own.length - 1], this.options.history.recent(1)[0]].filter((edit) => edit !== undefined);
    candidates.sort((a, b) => b.updatedAt - a.updatedAt);
    const out: AppliedEdit[] = [];
    for (const candidate of candidates) {
      if (out.some((edit) => edit.uri === candidate.uri && edit.offset === candidate.offset && edit.insertedText === candidate.insertedText)) continue;
      const target = candidate.uri === document.uri ? document : others.find((other) => other.uri === candidate.uri);
      if (!target || target.text.slice(candidate.offset, candidate.offset + candidate.insertedText.length) !== candidate.insertedText) continue;
      out.push({ uri: candidate.uri, offset: candidate.offset, deletedText: candidate.deletedText, insertedText: candidate.insertedText });
    }
    return out;
  }

  /** Open documents other than `uri`, one per URI (the newest version), most recently edited first. */
  private others(uri: string): ServiceDocument[] {
    const byUri = new Map<string, ServiceDocument>();
    for (const document of this.options.openDocuments()) {
      if (document.uri === uri) continue;
      const held = byUri.get(document.uri);
      if (!held || held.version < document.version) byUri.set(document.uri, document);
    }
    return [...byUri.values()];
  }

  /** The configured model for a role, or undefined for the builtin engines. */
  private provider(role: 'completion' | 'nextEdit', scope?: ResolveScope): ModelProvider | undefined {
    if (!this.options.models) return undefined;
    try {
      const provider = this.options.models.resolve(role, scope);
      return provider.kind === 'builtin' ? undefined : provider;
    } catch (error) {
      this.options.log?.warn(`${role} model misconfigured; using builtin`, { error: (error as Error).message });
      return undefined;
    }
  }

  private remember(record: SuggestionRecord): string {
    const id = `c${this.nextId++}`;
    this.records.set(id, record);
    if (this.records.size > 500) this.records.delete(this.records.keys().next().value!);
    return id;
  }
}

function startOfLineAbove(text: string, offset: number, lines: number): number {
  let at = text.lastIndexOf('\n', offset - 1) + 1;
  for (let i = 0; i < lines && at > 0; i++) at = text.lastIndexOf('\n', at - 2) + 1;
  return at;
}

function endOfLineBelow(text: string, offset: number, lines: number): number {
  let at = text.indexOf('\n', offset);
  for (let i = 0; i < lines && at >= 0; i++) at = text.indexOf('\n', at + 1);
  return at < 0 ? text.length : at + 1;
}

function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/** Files whose code may use each other's names: by extension, the JavaScript and TypeScript ones together. */
function languageFamily(pathOrUri: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(pathOrUri)?.[1]?.toLowerCase() ?? '';
  return /^(?:[cm]?[jt]sx?)$/.test(extension) ? 'js' : extension;
}

/** A jump-only site's key for rejection memory: its file and line (the rule's reason too). */
const siteKey = (site: IndexSite) => `${site.uri}|jump|${site.line}|${site.reason}`;

/**
 * `promise`'s value, or undefined once `ms` have passed; rejects as soon as `signal` aborts (the
 * promise's work goes on unheard). A timer of its own, not AbortSignal.timeout: a timeout signal
 * that only a composite signal refers to may be collected before it fires.
 */
async function withinBudget<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  const timer = new AbortController();
  const expired = sleep(ms, undefined, { signal: timer.signal }).then(
    () => undefined,
    () => undefined,
  );
  try {
    return await raceAbort(Promise.race([promise, expired]), signal);
  } finally {
    timer.abort();
  }
}
