// Syntax check before a result is proposed: where a tree-sitter grammar exists for the document's
// language, the result must not have more syntax errors than the original. Parsing runs in one
// worker thread, started on first use and unref'd (it never keeps the process alive).
import { Worker } from 'node:worker_threads';
import { diffTexts } from '../diff/index.js';

/** Language ids (as editors send them) and file extensions to the grammars @vscode/tree-sitter-wasm ships. */
const GRAMMAR_BY_LANGUAGE: Readonly<Record<string, string>> = {
  typescript: 'typescript', typescriptreact: 'tsx', javascript: 'javascript', javascriptreact: 'javascript',
  python: 'python', go: 'go', rust: 'rust', java: 'java', c: 'cpp', cpp: 'cpp', csharp: 'c-sharp', php: 'php',
  ruby: 'ruby', shellscript: 'bash', css: 'css', powershell: 'powershell',
};
const GRAMMAR_BY_EXTENSION: Readonly<Record<string, string>> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx', js: 'javascript', mjs: 'javascript', cjs: 'javascript',
  jsx: 'javascript', py: 'python', go: 'go', rs: 'rust', java: 'java', c: 'cpp', h: 'cpp', cc: 'cpp', cpp: 'cpp', hpp: 'cpp',
  cs: 'c-sharp', php: 'php', rb: 'ruby', sh: 'bash', bash: 'bash', css: 'css', ps1: 'powershell',
};

export function grammarFor(uri: string, languageId?: string): string | undefined {
  if (languageId && GRAMMAR_BY_LANGUAGE[languageId]) return GRAMMAR_BY_LANGUAGE[languageId];
  const name = uri.slice(uri.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : GRAMMAR_BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, (counts: number[] | null) => void>();

function getWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL('./syntax-worker.js', import.meta.url));
  started.on('message', (message: { id: number; counts: number[] | null }) => {
    pending.get(message.id)?.(message.counts);
    pending.delete(message.id);
    if (pending.size === 0) started.unref();
  });
  const fail = () => {
    for (const resolve of pending.values()) resolve(null);
    pending.clear();
    worker = undefined;
  };
  started.on('error', fail);
  started.on('exit', fail);
  // Held (ref'd) only while a check is pending, so an idle worker never keeps the process alive.
  started.unref();
  worker = started;
  return started;
}

/**
 * Syntax error counts of the original and the result ([before, after]), or null when there is no
 * grammar or parsing failed (the check then passes). The result is parsed incrementally.
 */
export function syntaxErrorCounts(grammar: string, texts: [before: string, after: string], timeoutMs = 5000): Promise<number[] | null> {
  const hunks = diffTexts(texts[0], texts[1]).map(({ newOffset, newEndOffset, oldText }) => ({ newOffset, newEndOffset, oldText }));
  return new Promise((resolve) => {
    const id = nextId++;
    const current = getWorker();
    const timer = setTimeout(() => {
      pending.delete(id);
      if (pending.size === 0) current.unref();
      resolve(null);
    }, timeoutMs);
    pending.set(id, (counts) => {
      clearTimeout(timer);
      resolve(counts);
    });
    current.ref();
    current.postMessage({ id, grammar, before: texts[0], after: texts[1], hunks });
  });
}

/** Stops the worker (tests, shutdown). */
export async function stopSyntaxWorker(): Promise<void> {
  const current = worker;
  worker = undefined;
  await current?.terminate();
}
