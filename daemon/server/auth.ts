// WebSocket access control. A bearer token, generated once and kept in a 0600 file in the state
// dir, proves the client runs as the user (it could read the file). Browsers add an Origin
// header, which tells a web page apart from a local script; pages are refused unless the user
// allowed their origin, so a site the user visits cannot drive caret.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Reads the token, creating it (and fixing its permissions) if needed. */
export function ensureToken(tokenFile: string): string {
  mkdirSync(dirname(tokenFile), { recursive: true, mode: 0o700 });
  try {
    const token = readFileSync(tokenFile, 'utf8').trim();
    if (token.length >= 32) {
      if ((statSync(tokenFile).mode & 0o077) !== 0) chmodSync(tokenFile, 0o600);
      return token;
    }
  } catch {
    // Not there yet.
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  return token;
}

export function readToken(tokenFile: string): string | undefined {
  try {
    return readFileSync(tokenFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a WebSocket upgrade request carries: `Authorization: Bearer T` or `?token=T`. */
export function tokenFromRequest(authorization: string | undefined, url: string | undefined): string | undefined {
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (match) return match[1];
  if (!url) return undefined;
  try {
    return new URL(url, 'http://localhost').searchParams.get('token') ?? undefined;
  } catch {
    return undefined; // a request line that is not a URL carries no token
  }
}

/** No Origin header: not a browser. Otherwise only origins the user listed. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes(origin);
}
