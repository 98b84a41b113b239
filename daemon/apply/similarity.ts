// Line similarity for placing modified lines and for showing the nearest lines of an unresolved
// region: Dice coefficient over character bigrams of the whitespace-free text. Pure.

export function squash(line: string): string {
  return line.replace(/\s+/g, '');
}

function bigrams(text: string): Map<string, number> {
  const grams = new Map<string, number>();
  for (let i = 0; i < text.length - 1; i++) {
    const gram = text.slice(i, i + 2);
    grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  return grams;
}

/** 0 (nothing alike) .. 1 (equal ignoring whitespace). */
export function lineSimilarity(a: string, b: string): number {
  const x = squash(a);
  const y = squash(b);
  if (x === y) return 1;
  if (x.length === 0 || y.length === 0) return 0;
  if (x.length < 2 || y.length < 2) return 0;
  // Lines of very different lengths cannot be alike; skip the work.
  const ratio = x.length / y.length;
  if (ratio < 0.33 || ratio > 3) return 0;
  const gx = bigrams(x);
  const gy = bigrams(y);
  let shared = 0;
  for (const [gram, count] of gx) shared += Math.min(count, gy.get(gram) ?? 0);
  return (2 * shared) / (x.length - 1 + (y.length - 1));
}

/** A line with no letters or digits (`}`, `);`, blank): it anchors nothing on its own. */
export function isTrivialLine(line: string): boolean {
  return !/[A-Za-z0-9_]/.test(line) || squash(line).length < 3;
}
