// What may be sent to a hosted model. Code from files the user has ignored (.gitignore,
// .caretignore) or that look like secrets never leaves the machine; local providers (loopback
// servers, onnx, builtin) see everything the user opened. Pure: callers pass what they know.

export interface SendCandidate {
  /** Path of the file the text comes from, relative to its root or absolute. */
  path: string;
  /** True when .gitignore or .caretignore matches the file (the caller asks the index). */
  ignored?: boolean;
  /** The text itself, checked for private-key blocks and credential assignments when given. */
  text?: string;
}

export type SendDecision = { allowed: true } | { allowed: false; reason: string };

// File names that hold credentials by convention.
const secretNames = [
  /^\.env(\..*)?$/i, // .env, .env.local (but see the allow-list below)
  /^\.envrc$/i,
  /^\.netrc$/i,
  /^_netrc$/i,
  /^\.npmrc$/i,
  /^\.pypirc$/i,
  /^\.pgpass$/i,
  /^\.git-credentials$/i,
  /^\.htpasswd$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/i,
  /^credentials(\.(json|ya?ml|toml|xml|ini))?$/i,
  /^secrets?(\.(json|ya?ml|toml|env|ini))?$/i,
  /^.*\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk|asc|gpg|age|tfvars|tfstate)$/i,
  /^service[-_]?account.*\.json$/i,
];
// Examples and templates of env files carry no secrets by convention.
const allowedNames = [/^\.env\.(example|sample|template|dist|defaults)$/i];
const secretDirs = new Set(['.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.password-store']);

const privateKeyBlock = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
const credentialAssignment = /\b(?:aws_secret_access_key|api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password)\s*[:=]\s*["']?[A-Za-z0-9/+_\-.]{16,}/i;
const knownTokenShapes = /\b(?:sk-[A-Za-z0-9_-]{20,}|sk-ant-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[baprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})\b/;

/** True when a path looks like it holds secrets (by name or folder). */
export function looksSecretPath(path: string): boolean {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  const name = parts[parts.length - 1] ?? '';
  if (allowedNames.some((pattern) => pattern.test(name))) return false;
  if (parts.slice(0, -1).some((dir) => secretDirs.has(dir))) return true;
  return secretNames.some((pattern) => pattern.test(name));
}

/** True when text carries a private key or something shaped like a credential. */
export function looksSecretText(text: string): boolean {
  return privateKeyBlock.test(text) || knownTokenShapes.test(text) || credentialAssignment.test(text);
}

/** Whether a file's text may go to a provider; `hosted` is the provider's capability flag. */
export function sendPolicy(candidate: SendCandidate, hosted: boolean): SendDecision {
  if (!hosted) return { allowed: true };
  if (candidate.ignored) return { allowed: false, reason: `${candidate.path} is ignored (.gitignore/.caretignore)` };
  if (looksSecretPath(candidate.path)) return { allowed: false, reason: `${candidate.path} looks like a secrets file` };
  if (candidate.text !== undefined && looksSecretText(candidate.text)) return { allowed: false, reason: `${candidate.path} contains what looks like a credential` };
  return { allowed: true };
}

/** Keeps only the candidates a provider may see. */
export function filterForProvider<T extends SendCandidate>(candidates: readonly T[], hosted: boolean): T[] {
  return candidates.filter((candidate) => sendPolicy(candidate, hosted).allowed);
}
