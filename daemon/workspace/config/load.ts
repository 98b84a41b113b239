// Reading, validating and merging configuration. Pure apart from reading files: every problem
// becomes a ConfigProblem naming the file, the key and the fix, and a bad file never stops the
// daemon (its last good configuration stays in force).
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseToml, TomlError } from 'smol-toml';
import { type Config, type ConfigInput, ConfigSchema } from './schema.js';

export interface ConfigProblem {
  file: string;
  /** Dotted key, e.g. `server.websocket.port`; empty for a file-level problem. */
  key: string;
  message: string;
  fix: string;
  severity: 'error' | 'warning';
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.key ? `${problem.file}: ${problem.key}` : problem.file;
  return `${where}: ${problem.message}. ${problem.fix}`;
}

export interface LoadedFile {
  config: ConfigInput;
  problems: ConfigProblem[];
}

/** Reads a TOML file; a missing file is an empty configuration. */
export function readConfigFile(file: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { config: {}, problems: [] };
    return {
      config: {},
      problems: [
        { file, key: '', message: `cannot be read (${(error as Error).message})`, fix: 'Check its permissions.', severity: 'error' },
      ],
    };
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): LoadedFile {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    const first = ((error as Error).message.split('\n')[0] ?? '').trim();
    return {
      config: {},
      problems: [{ file, key: '', message: `is not valid TOML${where}: ${first}`, fix: 'Fix the syntax; the previous configuration stays in force until then.', severity: 'error' }],
    };
  }
  return validateConfig(raw, file);
}

/** Validates a parsed file; invalid keys are reported and dropped, valid ones kept. */
export function validateConfig(raw: unknown, file: string): LoadedFile {
  const problems: ConfigProblem[] = [];
  const config = structuredClone(raw) as Record<string, unknown>;
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, config)) {
    const segments = error.path.split('/').filter(Boolean);
    const key = segments.join('.');
    if (seen.has(key)) continue;
    seen.add(key);
    const unknownKey = error.message === 'Unexpected property';
    if (unknownKey) {
      const known = knownKeysAt(segments.slice(0, -1));
      const suggestion = closest(segments[segments.length - 1] ?? '', known);
      problems.push({
        file,
        key,
        message: 'is not a caret setting',
        fix: suggestion
          ? `Did you mean \`${[...segments.slice(0, -1), suggestion].join('.')}\`? See docs/config.md.`
          : `Remove it; known keys here: ${known.join(', ') || '(none)'}. See docs/config.md.`,
        severity: 'error',
      });
    } else {
      const schema = schemaAt(segments);
      const expected = schema ? describeSchema(schema) : 'a valid value';
      problems.push({
        file,
        key,
        message: `${error.message.replace(/^Expected/, 'expected')} (got ${JSON.stringify(error.value)})`,
        fix: `Set it to ${expected}, or remove it to use the default.`,
        severity: 'error',
      });
    }
    deletePath(config, segments);
  }
  // Deleting an invalid key can leave its parent valid; a second pass catches anything left.
  return { config: Value.Check(ConfigSchema, config) ? (config as ConfigInput) : {}, problems };
}

function deletePath(target: Record<string, unknown>, segments: string[]): void {
  if (segments.length === 0) {
    for (const key of Object.keys(target)) delete target[key];
    return;
  }
  let node: unknown = target;
  for (const segment of segments.slice(0, -1)) {
    if (!node || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[segment];
  }
  if (node && typeof node === 'object') delete (node as Record<string, unknown>)[segments[segments.length - 1]!];
}

type SchemaNode = Record<string, unknown> & { properties?: Record<string, SchemaNode> };

export function schemaAt(segments: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = ConfigSchema as unknown as SchemaNode;
  for (const segment of segments) {
    node = node?.properties?.[segment];
    if (!node && segment.match(/^\d+$/)) return undefined;
  }
  return node;
}

function knownKeysAt(segments: readonly string[]): string[] {
  return Object.keys(schemaAt(segments)?.properties ?? {});
}

function describeSchema(schema: SchemaNode): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as SchemaNode[]).map((s) => JSON.stringify(s.const)).join(' or ');
  const parts: string[] = [`${schema.type === 'integer' ? 'an integer' : schema.type === 'array' ? 'an array' : `a ${String(schema.type)}`}`];
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') parts.push(`from ${schema.minimum} to ${schema.maximum}`);
  else if (typeof schema.minimum === 'number') parts.push(`of at least ${schema.minimum}`);
  return parts.join(' ');
}

/** The known key nearest to a misspelt one (edit distance at most 2), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}

/**
 * Drops from a workspace file what it may not set: daemon-wide settings always, settings that
 * could send code away or run programs unless the workspace is trusted.
 */
export function restrictWorkspaceConfig(config: ConfigInput, file: string, trusted: boolean): LoadedFile {
  const problems: ConfigProblem[] = [];
  const visit = (node: Record<string, unknown>, schema: SchemaNode | undefined, path: string[]) => {
    for (const key of Object.keys(node)) {
      const child = schema?.properties?.[key];
      const keyPath = [...path, key];
      if (child?.['x-scope'] === 'user') {
        problems.push({
          file,
          key: keyPath.join('.'),
          message: 'is a daemon-wide setting and is ignored in a workspace file',
          fix: 'Set it in ~/.config/caret/config.toml instead.',
          severity: 'warning',
        });
        delete node[key];
      } else if (child?.['x-trust'] === true && !trusted) {
        problems.push({
          file,
          key: keyPath.join('.'),
          message: 'is ignored because this workspace is not trusted (it could send code elsewhere or run programs)',
          fix: 'If you trust this repository, run `caret trust` in it.',
          severity: 'warning',
        });
        delete node[key];
      } else if (node[key] && typeof node[key] === 'object' && !Array.isArray(node[key])) {
        visit(node[key] as Record<string, unknown>, child, keyPath);
      }
    }
  };
  const copy = structuredClone(config) as Record<string, unknown>;
  visit(copy, ConfigSchema as unknown as SchemaNode, []);
  return { config: copy as ConfigInput, problems };
}

/** Deep merge: later layers win; arrays and scalars replace. */
export function mergeConfig(...layers: ConfigInput[]): ConfigInput {
  const merge = (base: Record<string, unknown>, over: Record<string, unknown>) => {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
      const prior = out[key];
      out[key] =
        value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object' && !Array.isArray(prior)
          ? merge(prior as Record<string, unknown>, value as Record<string, unknown>)
          : value;
    }
    return out;
  };
  return layers.reduce<Record<string, unknown>>((acc, layer) => merge(acc, layer as Record<string, unknown>), {}) as ConfigInput;
}

/** Fills in every default. */
export function withDefaults(config: ConfigInput): Config {
  return Value.Default(ConfigSchema, structuredClone(config)) as Config;
}
