// The constructed induction-head model, written once per machine into the shared test-model cache
// (its weights are a pure function of the code, so the folder name is a hash of the recipe).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INDUCTION, writeInductionModel } from '../fixtures/models/induction.js';

export function inductionModelDir(): { dir: string; eos: number } {
  const key = createHash('sha256').update(JSON.stringify({ INDUCTION, version: 1 })).digest('hex').slice(0, 12);
  const root = process.env.CARET_TEST_MODELS ?? join(tmpdir(), 'caret-test-models');
  const dir = join(root, `induction-${key}`);
  if (!existsSync(join(dir, 'config.json'))) {
    const staging = `${dir}.${process.pid}.${Date.now()}`;
    writeInductionModel(staging);
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process finished first
    }
  }
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { eos_token_id: number };
  return { dir, eos: config.eos_token_id };
}

/**
 * Code-shaped text whose every 8-token window is distinctive (random identifiers): the constructed
 * model matches 8 tokens of context, and its tokenizer cuts code into tokens of one or two
 * characters, so repeated boilerplate would send it to the wrong earlier copy.
 */
export function distinctiveCode(lines: number, seed: number, short = false): string[] {
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const id = (n: number) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 26)]).join('');
  // Each line ends in a fresh five-letter name, so the window that crosses into the next line is unique too.
  return Array.from({ length: lines }, () => (short ? `  ${id(4)} = ${id(5)};` : `  ${id(5)} = ${id(4)}(${id(3)}, ${id(5)});`));
}
