// Trusted workspaces: roots whose own .caret/config.toml may name provider URLs, API-key
// variables and commands. A cloned repository must not redirect code or run programs until the
// user says so with `caret trust`. Stored as a JSON list of absolute paths in the state dir.
import { mkdirSync, readFileSync, realpathSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

export function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

export function readTrustedRoots(trustFile: string): string[] {
  try {
    const value: unknown = JSON.parse(readFileSync(trustFile, 'utf8'));
    return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
  } catch {
    return [];
  }
}

export function isTrusted(root: string, trustedRoots: readonly string[]): boolean {
  const path = canonicalPath(root);
  return trustedRoots.some((trusted) => path === trusted || path.startsWith(trusted.endsWith(sep) ? trusted : trusted + sep));
}

/** Adds or removes a root; returns the new list. Written atomically. */
export function setTrust(trustFile: string, root: string, trusted: boolean): string[] {
  const path = canonicalPath(root);
  const current = readTrustedRoots(trustFile).filter((entry) => entry !== path);
  const next = trusted ? [...current, path].sort() : current;
  mkdirSync(dirname(trustFile), { recursive: true, mode: 0o700 });
  const temporary = `${trustFile}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, trustFile);
  return next;
}
