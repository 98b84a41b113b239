// Replays a repository's git history against completion and next edit.
//
//   npm run bench -- replay --repo PATH [--commits N] [--provider NAME --url URL --model M]
//                           [--samples-per-commit K] [--seed S] [--min-confidence C]
//                           [--index | --keystrokes]
//
// Completion: at sampled positions inside lines that real commits added, given the file as it
// was before the commit plus the typed part of the line (and the hunk's earlier added lines),
// predict the rest of the line (and of the block). Reports how often a suggestion is shown, how
// often its first line is exactly right, its character-level similarity, and latency; suggestions
// that bring more lines along (a block) are scored on those lines too, against the lines the
// commit really added after the sampled one. Shown and exact rates come with a 95% interval from
// resampling the commits (see bootstrapInterval): at the default 6 samples per commit a history of
// a few hundred commits pins exactness to about +-7 points only; `--samples-per-commit 40` takes
// nearly every added line and narrows it to about +-4.
// Next edit: for files a commit changed in several hunks, apply the first hunk as the user's edit
// and ask for the next edit; a prediction matches when it reproduces a remaining hunk (exact) or
// moves a remaining hunk's text toward its real new text (partial); otherwise it is wrong. Each
// case is asked twice: with the file alone (the headline figures), and with the commit's other
// files open as they were before it, as an editor session has them (a prediction in one of them
// is judged against that file's hunks).
// Index mode (--index), what the daemon really has: a checkout of the repository at each sampled
// commit's parent (a shared clone under /tmp, made here and removed at the end) indexed by the
// real workspace index (lexical), resynced after each checkout with the paths git says changed;
// the service searches it as daemon/server/runtime.ts wires it. The user is emulated typing the
// line: a request at each earlier token boundary of the typed part, background lookups let
// finish between them, then the scored request. --keystrokes emulates the typing without the
// index (to tell the two effects apart). The samples are the same in every mode.
// REPLAY_LEAK_CHECK=1 (index mode) searches the index for each sampled line and counts hits that
// hold it while the parent commit's version of their file does not (content of a later commit).
// REPLAY_DUMP=FILE writes each completion sample (typed, expected, shown) as a JSON line, to
// compare modes sample by sample.
// Diagnostics: REPLAY_JUMPS=1 (index mode) prints every jump into a file not open, with its verdict;
// REPLAY_EXAMPLES=N prints up to N misses; REPLAY_SHOWN=1 prints every next-edit
// prediction shown, with its verdict and the user's edit (the first hunk), for classifying misses;
// REPLAY_SILENT=N prints up to N silent completion samples whose whole line was already written in
// the file or an open document (missed opportunities).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CompletionService, editSimilarity } from '../../daemon/completion/index.js';
import { IndexService } from '../../daemon/index/index.js';
import { ModelRegistry, type ModelsSettings } from '../../daemon/models/index.js';
import { ConfigService, EditHistory, trimCommon } from '../../daemon/workspace/index.js';

interface Options {
  repo: string;
  commits: number;
  samplesPerCommit: number;
  seed: number;
  provider?: string;
  url?: string;
  model?: string;
  minConfidence?: number;
  /** Search a checkout of the parent commit through the workspace index, as the daemon does. */
  index: boolean;
  /** Emulate the earlier keystrokes of the typed line (implied by index). */
  keystrokes: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { repo: '', commits: 300, samplesPerCommit: 6, seed: 1, index: false, keystrokes: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    const need = () => {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      i++;
      return value;
    };
    if (flag === '--repo') options.repo = need();
    else if (flag === '--commits') options.commits = Number(need());
    else if (flag === '--samples-per-commit') options.samplesPerCommit = Number(need());
    else if (flag === '--seed') options.seed = Number(need());
    else if (flag === '--provider') options.provider = need();
    else if (flag === '--url') options.url = need();
    else if (flag === '--model') options.model = need();
    else if (flag === '--min-confidence') options.minConfidence = Number(need());
    else if (flag === '--index') options.index = options.keystrokes = true;
    else if (flag === '--keystrokes') options.keystrokes = true;
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!options.repo) throw new Error('usage: npm run bench -- replay --repo PATH [--commits N] [--provider NAME --url URL --model M]');
  return options;
}

const SOURCE = new Set(['.ts', '.tsx', '.js', '.jsx', '.mjs', '.py', '.go', '.rs', '.c', '.h', '.cc', '.cpp', '.hpp', '.java', '.kt', '.rb', '.lua', '.el', '.cs', '.swift', '.php', '.scala', '.sh']);
const LANGUAGE: Record<string, string> = { '.ts': 'typescript', '.tsx': 'typescript', '.js': 'javascript', '.jsx': 'javascript', '.mjs': 'javascript', '.py': 'python', '.go': 'go', '.rs': 'rust', '.c': 'c', '.h': 'c', '.cc': 'cpp', '.cpp': 'cpp', '.hpp': 'cpp', '.java': 'java', '.kt': 'kotlin', '.rb': 'ruby', '.lua': 'lua', '.el': 'elisp', '.cs': 'csharp', '.swift': 'swift', '.php': 'php', '.scala': 'scala', '.sh': 'shell' };

interface Hunk {
  oldStart: number; // 1-based; for oldLen 0, the line after which lines are added
  oldLen: number;
  removed: string[];
  added: string[];
}

function git(repo: string, args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

function hunksOf(diff: string): Map<string, Hunk[]> {
  const files = new Map<string, Hunk[]>();
  let current: Hunk[] | undefined;
  let hunk: Hunk | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const path = line.startsWith('+++ b/') ? line.slice(6) : undefined;
      current = path ? [] : undefined;
      if (path && current) files.set(path, current);
      continue;
    }
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (header) {
      hunk = { oldStart: Number(header[1]), oldLen: header[2] === undefined ? 1 : Number(header[2]), removed: [], added: [] };
      current?.push(hunk);
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith('-') && !line.startsWith('---')) hunk.removed.push(line.slice(1));
    else if (line.startsWith('+') && !line.startsWith('+++')) hunk.added.push(line.slice(1));
  }
  return files;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 95% interval for the ratio sum(num) / sum(den) over `groups`, by resampling the groups with
 * replacement (percentile bootstrap). Samples of one commit share its code and its author's
 * habits, so the commit, not the sample, is the unit resampled: a binomial interval over samples
 * would claim more precision than the history holds.
 */
function bootstrapInterval<T>(groups: T[], num: (g: T) => number, den: (g: T) => number, rounds = 2000): [number, number] | null {
  if (groups.length < 2) return null;
  const rand = random(0x5eed);
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    let d = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[Math.floor(rand() * groups.length)]!;
      n += num(g);
      d += den(g);
    }
    if (d > 0) ratios.push(n / d);
  }
  if (ratios.length < rounds / 2) return null;
  return [percentile(ratios, 2.5), percentile(ratios, 97.5)];
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Old-file lines with the hunk applied: where the hunk's region starts in the result. */
function applyHunk(lines: string[], hunk: Hunk): string[] {
  const at = hunk.oldLen === 0 ? hunk.oldStart : hunk.oldStart - 1;
  return [...lines.slice(0, at), ...hunk.added, ...lines.slice(at + hunk.oldLen)];
}

/**
 * Scores the lines a suggestion brings after its first against what really followed: the lines
 * the commit added after the sampled one, then the file's old lines after the hunk (a block can
 * close on a line that was already there). Lines compare with trailing blanks ignored.
 */
function scoreBlock(suggested: string[], addedAfter: string[], oldAfter: string[]): { exact: boolean; linesRight: number; similarity: number } {
  const truth = [...addedAfter, ...oldAfter].slice(0, suggested.length).map((line) => line.trimEnd());
  const got = suggested.map((line) => line.trimEnd());
  const linesRight = got.filter((line, k) => line === truth[k]).length;
  return { exact: linesRight === got.length, linesRight, similarity: editSimilarity(got.join('\n'), truth.join('\n')) };
}

/**
 * How a predicted edit of `text` (whose lines are `lines`) compares with the hunks still to come
 * there (`hunks`, in the file's old line numbers, `delta` lines away from `text`'s): it reproduces
 * one (exact), moves one's text toward its new text (partial), or neither (wrong).
 */
function judgeEdit(text: string, lines: string[], hunks: Hunk[], delta: number, edits: ReadonlyArray<{ start: number; end: number; newText: string }>): { verdict: 'exact' | 'partial' | 'wrong'; similarity: number } {
  const predicted = [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);
  const lengthDelta = predicted.length - text.length;
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const offsetOfLine = (n: number) => (n <= 0 ? 0 : n >= lineStarts.length ? text.length : lineStarts[n]!);
  const low = Math.min(...edits.map((e) => e.start));
  const high = Math.max(...edits.map((e) => e.end));
  let verdict: 'exact' | 'partial' | 'wrong' = 'wrong';
  let best = 0;
  for (const hunk of hunks) {
    const start = (hunk.oldLen === 0 ? hunk.oldStart : hunk.oldStart - 1) + delta;
    const windowStart = offsetOfLine(start - 1);
    const windowEnd = offsetOfLine(start + hunk.oldLen + 1);
    if (low < windowStart || high > windowEnd) continue;
    const original = text.slice(windowStart, windowEnd);
    const target = [...lines.slice(Math.max(0, start - 1), start), ...hunk.added, ...lines.slice(start + hunk.oldLen, start + hunk.oldLen + 1)].join('\n') + (windowEnd < text.length ? '\n' : '');
    const got = predicted.slice(windowStart, windowEnd + lengthDelta);
    if (got === target) return { verdict: 'exact', similarity: 1 };
    const similarity = editSimilarity(got, target);
    if (similarity > editSimilarity(original, target) && similarity > best) {
      verdict = 'partial';
      best = similarity;
    }
  }
  return { verdict, similarity: best };
}

type IndexHits = Array<{ path: string; snippet: string; startLine: number }>;

/**
 * A checkout of the replayed repository that moves from commit to commit, with the workspace
 * index over it. A shared clone rather than a worktree of the repository: nothing is written
 * into the replayed repository's own .git, which may be in use.
 */
interface IndexedCheckout {
  root: string;
  /** Checks out `commit` and resyncs the index with the paths that changed; false if already there. */
  moveTo(commit: string): Promise<boolean>;
  /** The index's lexical search, as daemon/server/runtime.ts hands it to the completion service. */
  search(root: string, query: string, limit: number): Promise<IndexHits>;
  syncMs: number;
  dispose(): Promise<void>;
}

function indexedCheckout(repo: string): IndexedCheckout {
  const dir = mkdtempSync('/tmp/caret-replay-');
  const root = join(dir, 'tree');
  execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', repo, root]);
  const config = new ConfigService({ userFile: join(dir, 'none.toml'), trustFile: join(dir, 'trust.json') });
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  // No watcher and no periodic resync: the replay says when files changed.
  const service = new IndexService({ cacheDir: join(dir, 'cache'), log: silent, settings: (r) => ({ ...config.get(r).index, enabled: true, watch: false, resyncIntervalSeconds: 0 }) });
  let at: string | undefined;
  const checkout: IndexedCheckout = {
    root,
    syncMs: 0,
    async moveTo(commit) {
      if (commit === at) return false;
      const t0 = performance.now();
      git(root, ['checkout', '--quiet', '--force', '--detach', commit]);
      const index = service.get(root);
      if (!index || at === undefined) {
        await service.open(root, true)!.whenIdle();
      } else {
        // Both sides of a rename: the old path leaves the index, the new one enters it.
        const changed = git(root, ['diff', '--name-only', '--no-renames', at, commit]).split('\n').filter(Boolean);
        index.reindex(false, changed, 'replay checkout');
        await index.whenIdle();
      }
      at = commit;
      checkout.syncMs += performance.now() - t0;
      return true;
    },
    search: async (r, query, limit) =>
      ((await service.get(r)?.query({ query, limit, mode: 'lexical' })) ?? []).map((hit) => ({ path: hit.path, snippet: hit.snippet, startLine: hit.startLine, snippetLine: hit.snippetLine })),
    async dispose() {
      await service.dispose();
      config.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return checkout;
}

/** Where the user, typing `line` up to `cut`, had just finished a token: the keystrokes emulated before the scored one. */
function tokenBoundaries(line: string, from: number, cut: number): number[] {
  const kind = (c: string) => (/[\w$]/.test(c) ? 'w' : /\s/.test(c) ? 's' : 'p');
  const at: number[] = [];
  for (let p = from + 1; p < cut; p++) if (kind(line[p - 1]!) !== kind(line[p]!) || kind(line[p]!) === 'p') at.push(p);
  return at;
}

interface Doc {
  uri: string;
  languageId: string;
  version: number;
  text: string;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const rand = random(options.seed);
  let models: ModelRegistry | undefined;
  if (options.provider && options.provider !== 'builtin') {
    const role = { provider: options.provider, ...(options.url && { url: options.url }), ...(options.model && { model: options.model }) } as NonNullable<ModelsSettings['completion']>;
    models = new ModelRegistry({ settings: () => ({ completion: role, nextEdit: role }) });
  }
  let open: Doc[] = [];
  const history = new EditHistory({ coalesceMs: 0 });
  const checkout = options.index ? indexedCheckout(options.repo) : undefined;
  const scope = checkout && { root: checkout.root };
  const service = new CompletionService({
    history,
    openDocuments: () => open,
    ...(models && { models }),
    ...(checkout && { searchIndex: checkout.search }),
    eagerIndexing: true,
    settings: () => ({ prefetch: false, maxModelMs: 10_000, ...(options.minConfidence !== undefined && { minConfidence: options.minConfidence }) }),
  });
  const commits = git(options.repo, ['log', '--no-merges', '--first-parent', `-n${options.commits}`, '--format=%H']).split('\n').filter(Boolean);
  const completion = { samples: 0, shown: 0, exact: 0, similarity: 0, latencies: [] as number[] };
  // Per commit (the unit of the intervals, see bootstrapInterval).
  const byCommit: Array<{ samples: number; shown: number; exact: number }> = [];
  // Block continuations: suggestions with lines after the first, scored on those lines.
  const block = { shown: 0, exact: 0, lines: 0, linesRight: 0, similarity: 0 };
  const nextEdit = { cases: 0, shown: 0, exact: 0, partial: 0, wrong: 0, silent: 0, similarity: 0, latencies: [] as number[] };
  // Index mode: jumps into files that are not open (no edit), and how many land on a hunk there.
  const jumps = { alone: { shown: 0, onHunk: 0 }, withOpen: { shown: 0, onHunk: 0 } };
  // The same cases with the commit's other files open; `elsewhere`: predictions in one of them.
  const withOpen = { cases: 0, shown: 0, exact: 0, partial: 0, wrong: 0, silent: 0, elsewhere: 0, elsewhereMatched: 0 };
  const examples: string[] = [];
  const leaks = { checked: 0, found: [] as string[] };
  const dump: string[] = [];
  const silentExamples: string[] = [];
  const byRule = new Map<string, { shown: number; matched: number }>();
  const tally = (reason: string, matched: boolean) => {
    const rule = reason.split(' ')[0]!;
    const entry = byRule.get(rule) ?? { shown: 0, matched: 0 };
    entry.shown++;
    if (matched) entry.matched++;
    byRule.set(rule, entry);
  };
  let version = 1;
  const started = Date.now();
  for (const commit of commits) {
    let diff: string;
    let parent: string;
    try {
      parent = git(options.repo, ['rev-list', '--parents', '-n1', commit]).trim().split(' ')[1]!;
      if (!parent) continue; // root commit
      diff = git(options.repo, ['diff', '--no-color', '--no-ext-diff', '--unified=0', '--diff-filter=M', `${commit}~1`, commit]);
    } catch {
      continue; // root commit
    }
    const files = new Map([...hunksOf(diff)].filter(([path]) => SOURCE.has(extname(path))));
    const before = new Map<string, string>();
    for (const [path] of files) {
      try {
        const text = git(options.repo, ['show', `${commit}~1:${path}`]);
        if (text.length < 400_000 && !text.includes('\u0000')) before.set(path, text);
      } catch {
        /* renamed or unreadable */
      }
    }
    // Under the checkout in index mode, as an editor names the workspace's files.
    const docOf = (path: string, text: string): Doc => ({ uri: checkout ? pathToFileURL(join(checkout.root, path)).href : `file:///replay/${path}`, languageId: LANGUAGE[extname(path)] ?? 'plaintext', version: version++, text });

    // Completion samples.
    const candidates: Array<{ path: string; hunk: Hunk; index: number }> = [];
    for (const [path, hunks] of files) {
      if (!before.has(path)) continue;
      for (const hunk of hunks) hunk.added.forEach((line, index) => {
        if (line.trim().length >= 6) candidates.push({ path, hunk, index });
      });
    }
    // The index holds the parent's tree, the code as it was before the commit: never the lines
    // the commit added, and (hits forgotten at each move) nothing of a later commit.
    if (checkout && candidates.length > 0 && (await checkout.moveTo(parent))) service.forgetIndexHits();
    const tallies = { samples: 0, shown: 0, exact: 0 };
    if (candidates.length > 0) byCommit.push(tallies);
    for (let k = 0; k < options.samplesPerCommit && candidates.length > 0; k++) {
      const { path, hunk, index } = candidates.splice(Math.floor(rand() * candidates.length), 1)[0]!;
      const oldLines = before.get(path)!.split('\n');
      const line = hunk.added[index]!;
      const indent = line.length - line.trimStart().length;
      const cut = indent + Math.floor(rand() * (line.trimEnd().length - indent - 1)) + 1;
      const expected = line.slice(cut).trimEnd();
      if (!expected) continue;
      const at = hunk.oldLen === 0 ? hunk.oldStart : hunk.oldStart - 1;
      const lead = [...oldLines.slice(0, at), ...hunk.added.slice(0, index)];
      const prefix = [...lead, line.slice(0, cut)].join('\n');
      const suffix = '\n' + oldLines.slice(at + hunk.oldLen).join('\n');
      open = [...before].filter(([other]) => other !== path).map(([other, text]) => docOf(other, text));
      if (options.keystrokes) {
        // Keystrokes come 100 ms or more apart; the lookups they start take milliseconds.
        for (const p of tokenBoundaries(line, indent, cut)) {
          const earlier = [...lead, line.slice(0, p)].join('\n');
          await service.inline({ sessionKey: 'replay', document: docOf(path, earlier + suffix), offset: earlier.length, trigger: 'automatic', ...(scope && { scope }) }, new AbortController().signal);
          await service.idle();
        }
      }
      if (checkout && process.env.REPLAY_LEAK_CHECK) {
        const whole = line.trim();
        for (const hit of await checkout.search(checkout.root, whole, 20)) {
          leaks.checked++;
          if (!hit.snippet.includes(whole)) continue;
          let then = '';
          try {
            then = git(options.repo, ['show', `${parent}:${hit.path}`]);
          } catch {
            /* not in the parent: a leak if it is in the index */
          }
          if (!then.includes(whole)) leaks.found.push(`${commit.slice(0, 8)} ${hit.path}: ${JSON.stringify(whole)}`);
        }
      }
      const document = docOf(path, prefix + suffix);
      const t0 = performance.now();
      const items = await service.inline({ sessionKey: 'replay', document, offset: prefix.length, trigger: 'automatic', ...(scope && { scope }) }, new AbortController().signal);
      completion.latencies.push(performance.now() - t0);
      completion.samples++;
      tallies.samples++;
      const suggestionLines = items[0]?.insertText.split('\n') ?? [];
      const shown = suggestionLines[0];
      const rest = suggestionLines.slice(1);
      if (shown && rest.length > 0) {
        const scored = scoreBlock(rest, hunk.added.slice(index + 1), oldLines.slice(at + hunk.oldLen));
        block.shown++;
        block.lines += rest.length;
        block.linesRight += scored.linesRight;
        block.similarity += scored.similarity;
        if (scored.exact && shown.trimEnd() === expected) block.exact++;
      }
      if (process.env.REPLAY_DUMP) dump.push(JSON.stringify({ n: completion.samples, path, typed: line.slice(indent, cut), expected, got: shown ?? null }));
      if (shown) {
        completion.shown++;
        tallies.shown++;
        if (shown.trimEnd() === expected) {
          completion.exact++;
          tallies.exact++;
        } else if (examples.length < Number(process.env.REPLAY_EXAMPLES ?? 0)) examples.push(`  completion ${path}: typed ${JSON.stringify(line.slice(indent, cut))} expected ${JSON.stringify(expected)} got ${JSON.stringify(shown)}`);
        completion.similarity += editSimilarity(shown.trimEnd(), expected);
      } else if (silentExamples.length < Number(process.env.REPLAY_SILENT ?? 0)) {
        // A silent sample whose whole line is already written somewhere the engine looks: a
        // missed opportunity rather than a line nobody could have predicted.
        const whole = line.trim();
        const elsewhere = [prefix.slice(0, prefix.lastIndexOf('\n')), suffix, ...open.filter((o) => o.languageId === document.languageId).map((o) => o.text)];
        if (elsewhere.some((text) => text.includes(whole))) silentExamples.push(`  silent ${path}: typed ${JSON.stringify(line.slice(indent, cut))} expected ${JSON.stringify(expected)} (the whole line is written elsewhere)`);
      }
    }

    // Next-edit cases: files with several hunks (in index mode, the index holds the parent's tree).
    if (checkout && [...files.values()].some((hunks) => hunks.length > 1) && (await checkout.moveTo(parent))) service.forgetIndexHits();
    for (const [path, hunks] of files) {
      if (hunks.length < 2 || !before.has(path)) continue;
      const oldLines = before.get(path)!.split('\n');
      const first = hunks[0]!;
      const afterFirst = applyHunk(oldLines, first);
      const oldText = oldLines.join('\n');
      const text = afterFirst.join('\n');
      const change = trimCommon({ offset: 0, deletedText: oldText, insertedText: text });
      const document = docOf(path, text);
      const delta = first.added.length - first.oldLen;
      const ask = async (others: Doc[]) => {
        history.forget(document.uri);
        history.record(document.uri, document.version, [change]);
        open = others;
        const t0 = performance.now();
        const answer = await service.nextEdit({ sessionKey: 'replay', document, offset: change.offset + change.insertedText.length, ...(scope && { scope }) }, new AbortController().signal);
        history.forget(document.uri);
        // A jump into a file that is not open (index mode only: the index names it) is counted
        // apart, by whether it lands on a hunk of that file.
        if (answer && 'site' in answer) {
          const tally = others.length > 0 ? jumps.withOpen : jumps.alone;
          tally.shown++;
          if (jumpLands(answer.site)) tally.onHunk++;
          if (process.env.REPLAY_JUMPS) console.log(`jump ${jumpLands(answer.site) ? 'lands' : 'misses'} ${commit.slice(0, 8)} ${path} -> ${relative(checkout!.root, fileURLToPath(answer.site.uri))}:${answer.site.line + 1} ${answer.site.reason}${others.length > 0 ? ' (other files open)' : ''}`);
        }
        return { answer: answer && 'proposal' in answer ? answer : null, ms: performance.now() - t0 };
      };
      const jumpLands = (site: { uri: string; line: number }) => {
        const there = files.get(relative(checkout!.root, fileURLToPath(site.uri))) ?? [];
        // Within the hunk's old lines, or the line before or after them (0-based lines).
        return there.some((hunk) => site.line >= hunk.oldStart - 2 && site.line <= hunk.oldStart - 1 + Math.max(hunk.oldLen, 1));
      };
      // Again with the commit's other files open as they were before it (as the completion samples
      // have them): a prediction there is judged against that file's hunks.
      const others = [...before].filter(([other]) => other !== path).map(([other, otherText]) => ({ path: other, doc: docOf(other, otherText) }));
      const withOthers = (await ask(others.map((o) => o.doc))).answer;
      withOpen.cases++;
      if (!withOthers) withOpen.silent++;
      else {
        withOpen.shown++;
        const other = others.find((o) => o.doc.uri === withOthers.target.uri);
        const judged = withOthers.target.uri === document.uri
          ? judgeEdit(text, afterFirst, hunks.slice(1), delta, withOthers.proposal.edits)
          : other
            ? judgeEdit(other.doc.text, other.doc.text.split('\n'), files.get(other.path) ?? [], 0, withOthers.proposal.edits)
            : { verdict: 'wrong' as const };
        withOpen[judged.verdict]++;
        if (withOthers.target.uri !== document.uri) {
          withOpen.elsewhere++;
          if (judged.verdict !== 'wrong') withOpen.elsewhereMatched++;
        }
      }
      const { answer: result, ms } = await ask([]);
      nextEdit.latencies.push(ms);
      nextEdit.cases++;
      if (!result || result.target.uri !== document.uri) {
        nextEdit.silent += result ? 0 : 1;
        if (result) nextEdit.wrong++;
        if (result) nextEdit.shown++;
        continue;
      }
      nextEdit.shown++;
      const { verdict: best, similarity: bestSimilarity } = judgeEdit(text, afterFirst, hunks.slice(1), delta, result.proposal.edits);
      nextEdit.similarity += bestSimilarity;
      tally(result.proposal.reason, best !== 'wrong');
      if (process.env.REPLAY_SHOWN) console.log(`${best} ${commit.slice(0, 8)} ${path} ${result.proposal.reason}\n${first.removed.map((l) => `-${l}`).join('\n')}\n${first.added.map((l) => `+${l}`).join('\n')}`);
      if (best === 'exact') nextEdit.exact++;
      else if (best === 'partial') nextEdit.partial++;
      else {
        nextEdit.wrong++;
        if (examples.length < Number(process.env.REPLAY_EXAMPLES ?? 0) * 2) examples.push(`  next edit ${commit.slice(0, 8)} ${path}: ${result.proposal.reason} (wrong)`);
      }
    }
  }
  const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`);
  const repoName = git(options.repo, ['rev-parse', '--show-toplevel']).trim();
  const mode = checkout ? `index (resyncs ${(checkout.syncMs / 1000).toFixed(1)} s) and keystrokes` : options.keystrokes ? 'keystrokes, no index' : 'no index';
  console.log(`repository ${repoName}, ${commits.length} commits, provider ${options.provider ?? 'builtin'}, seed ${options.seed}, mode ${mode}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('completion');
  const interval = (range: [number, number] | null) => (range ? ` [95% ${(100 * range[0]).toFixed(1)}-${(100 * range[1]).toFixed(1)}%]` : '');
  const shownRange = bootstrapInterval(byCommit, (c) => c.shown, (c) => c.samples);
  const exactRange = bootstrapInterval(byCommit, (c) => c.exact, (c) => c.shown);
  console.log(`  samples ${completion.samples} from ${byCommit.length} commits, shown ${completion.shown} (${pct(completion.shown, completion.samples)}${interval(shownRange)})`);
  console.log(`  exact among shown ${completion.exact} (${pct(completion.exact, completion.shown)}${interval(exactRange)}), exact over all samples ${pct(completion.exact, completion.samples)}`);
  console.log(`  mean edit similarity among shown ${completion.shown ? (completion.similarity / completion.shown).toFixed(3) : 'n/a'}`);
  console.log(`  block continuations ${block.shown} (${pct(block.shown, completion.shown)} of shown): whole block exact ${block.exact} (${pct(block.exact, block.shown)}), lines after the first right ${block.linesRight} / ${block.lines} (${pct(block.linesRight, block.lines)}), mean similarity ${block.shown ? (block.similarity / block.shown).toFixed(3) : 'n/a'}`);
  console.log(`  latency p50 ${percentile(completion.latencies, 50).toFixed(2)} ms, p99 ${percentile(completion.latencies, 99).toFixed(2)} ms`);
  console.log('next edit');
  console.log(`  multi-hunk cases ${nextEdit.cases}, shown ${nextEdit.shown} (${pct(nextEdit.shown, nextEdit.cases)}), silent ${nextEdit.silent} (${pct(nextEdit.silent, nextEdit.cases)})`);
  console.log(`  matching a later hunk ${nextEdit.exact + nextEdit.partial} (${pct(nextEdit.exact + nextEdit.partial, nextEdit.shown)} of shown): exact ${nextEdit.exact} (${pct(nextEdit.exact, nextEdit.shown)}), partial ${nextEdit.partial}`);
  console.log(`  wrong ${nextEdit.wrong} (${pct(nextEdit.wrong, nextEdit.shown)} of shown), mean best similarity among shown ${nextEdit.shown ? (nextEdit.similarity / nextEdit.shown).toFixed(3) : 'n/a'}`);
  console.log(`  latency p50 ${percentile(nextEdit.latencies, 50).toFixed(2)} ms, p99 ${percentile(nextEdit.latencies, 99).toFixed(2)} ms`);
  console.log(`  with the commit's other files open: shown ${withOpen.shown} (${pct(withOpen.shown, withOpen.cases)}), matching ${withOpen.exact + withOpen.partial} (${pct(withOpen.exact + withOpen.partial, withOpen.shown)} of shown; exact ${withOpen.exact}, partial ${withOpen.partial}), in another file ${withOpen.elsewhere} (${withOpen.elsewhereMatched} matching)`);
  if (checkout) console.log(`  jumps into files not open (the index named them): file alone ${jumps.alone.shown} (${jumps.alone.onHunk} onto a hunk of that file), other files open ${jumps.withOpen.shown} (${jumps.withOpen.onHunk})`);
  console.log(`  by rule: ${[...byRule].map(([rule, { shown, matched }]) => `${rule} ${matched}/${shown}`).join(', ')}`);
  if (process.env.REPLAY_LEAK_CHECK) console.log([`leak check: ${leaks.checked} index hits for the sampled lines, ${leaks.found.length} holding a line their file did not have at the parent commit`, ...leaks.found.slice(0, 20)].join('\n'));
  if (process.env.REPLAY_EXAMPLES) console.log(['examples (misses):', ...examples].join('\n'));
  if (process.env.REPLAY_SILENT) console.log(['silent completions whose line exists elsewhere:', ...silentExamples].join('\n'));
  if (process.env.REPLAY_DUMP) writeFileSync(process.env.REPLAY_DUMP, dump.join('\n') + '\n');
  service.dispose();
  await models?.dispose();
  await checkout?.dispose();
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
