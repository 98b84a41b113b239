// Reads and checks a local model directory in the Hugging Face Optimum layout before anything is
// loaded, so a wrong path gets an error that says what is missing and how to produce it.
//
//   model.onnx (or onnx/model.onnx, decoder_model_merged.onnx...)  [+ model.onnx_data]
//   config.json  tokenizer.json  [tokenizer_config.json]  [generation_config.json]
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ModelError } from '../errors.js';

export interface ModelDirectory {
  /** Absolute directory. */
  dir: string;
  /** The ONNX file to load. */
  modelPath: string;
  /** Directory holding tokenizer.json (the model dir, or its parent for the `onnx/` sub-folder layout). */
  tokenizerDir: string;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
}

/** ONNX file names tried in order when none is configured; the first that exists wins. */
export const modelFileCandidates = [
  'model.onnx',
  'decoder_model_merged.onnx',
  'decoder_with_past_model.onnx',
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/model_quantized.onnx',
] as const;

function fail(dir: string, message: string, fix: string, cause?: unknown): never {
  throw new ModelError({ kind: 'misconfigured', provider: 'onnx', endpoint: dir, message, fix, cause });
}

const exportHint = 'Export one with `optimum-cli export onnx --model <name> --task text-generation-with-past <dir>` (or feature-extraction for an embedding model)';

function readJsonObject(dir: string, path: string, name: string, required: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (required) fail(dir, `${name} is missing`, `A model directory needs model.onnx, config.json and tokenizer.json. ${exportHint}`);
    return {};
  }
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    return fail(dir, `${name} is not valid JSON (${(error as Error).message})`, `Re-export the model or restore ${name}`, error);
  }
}

/** Checks a model directory and reads its configuration. `file` picks the ONNX file (relative to dir). */
export function openModelDirectory(path: string, file?: string): ModelDirectory {
  const dir = resolve(path);
  if (!isAbsolute(path) && path.startsWith('~')) fail(path, 'the path starts with ~, which is not expanded', 'Write the full path to the model directory');
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    return fail(dir, 'the model directory does not exist', `Check models.<role>.path. ${exportHint}`);
  }
  if (!stats.isDirectory()) fail(dir, 'the model path is a file, not a directory', 'Point models.<role>.path at the folder that holds model.onnx, config.json and tokenizer.json');

  const candidates = file ? [file] : modelFileCandidates;
  const found = candidates.map((name) => join(dir, name)).find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  if (!found) {
    fail(dir, file ? `${file} does not exist in the model directory` : 'no ONNX model file found (looked for model.onnx and the other Optimum names)', exportHint);
  }
  const header = readFileSync(found).subarray(0, 2);
  // Every ModelProto starts with field 1 (ir_version, varint: 0x08) — a cheap check that catches
  // Git LFS pointer files and truncated downloads before onnxruntime reports a cryptic parse error.
  if (header[0] !== 0x08) {
    const text = readFileSync(found, 'utf8').slice(0, 200);
    if (text.startsWith('version https://git-lfs')) fail(dir, `${found} is a Git LFS pointer, not the model`, 'Run `git lfs pull` in the model repository, or download the file itself');
    fail(dir, `${found} is not an ONNX model`, exportHint);
  }
  const tokenizerDir = existsSync(join(dir, 'tokenizer.json')) || !found.includes('/onnx/') ? dir : join(dir, '..');
  const config = readJsonObject(dir, join(existsSync(join(dir, 'config.json')) ? dir : tokenizerDir, 'config.json'), 'config.json', true);
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) {
    fail(dir, 'tokenizer.json is missing', 'Copy tokenizer.json from the original model (`AutoTokenizer.from_pretrained(...).save_pretrained(dir)` writes it)');
  }
  const generationConfig = readJsonObject(dir, join(tokenizerDir, 'generation_config.json'), 'generation_config.json', false);
  return { dir, modelPath: found, tokenizerDir, config, generationConfig };
}

/** End-of-sequence ids: generation_config.json first (it may list several), then config.json. */
export function eosTokenIds(model: Pick<ModelDirectory, 'config' | 'generationConfig'>): number[] {
  for (const source of [model.generationConfig, model.config]) {
    const value = source.eos_token_id;
    if (typeof value === 'number') return [value];
    if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  }
  return [];
}

export function configNumber(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}
