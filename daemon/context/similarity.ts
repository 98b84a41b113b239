// Near-duplicate detection for snippets: two snippets are near duplicates when most of the
// meaningful lines of the smaller one appear in the other. Lines are compared with whitespace
// collapsed; lines too short to mean anything (braces, blank) are ignored.

export function meaningfulLines(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const normal = line.trim().replace(/\s+/g, ' ');
    if (normal.replace(/[^A-Za-z0-9]/g, '').length >= 3) out.add(normal);
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
