// Near-duplicate detection for snippets: two snippets are near duplicates when most of the
// meaningful lines of the smaller one appear in the other. Lines are compared with whitespace
// collapsed; lines too short to mean anything (braces, blank) are ignored.

// The same lines come back on every keystroke (snippets, the cursor window): remember each
// line's normal form. Bounded; the oldest entries go first.
const normalCache = new Map<string, string | null>();

function normalLine(line: string): string | null {
  let normal = normalCache.get(line);
  if (normal === undefined) {
    const collapsed = line.trim().replace(/\s+/g, ' ');
    normal = collapsed.replace(/[^A-Za-z0-9]/g, '').length >= 3 ? collapsed : null;
    if (normalCache.size >= 20_000) normalCache.delete(normalCache.keys().next().value!);
    normalCache.set(line, normal);
  }
  return normal;
}

export function meaningfulLines(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const normal = normalLine(line);
    if (normal !== null) out.add(normal);
  }
  return out;
}

/** Share of the smaller set's lines found in the larger set (0..1); 0 when either is empty. */
export function containment(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  if (small.size === 0) return 0;
  let shared = 0;
  for (const line of small) if (large.has(line)) shared++;
  return shared / small.size;
}

export function rangesOverlap(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}
