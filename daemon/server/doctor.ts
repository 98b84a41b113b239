// `caret doctor`: each check says ok, warn or error, what it saw, and what to do.
import type { Static } from '../../protocol/index.js';
import type { DoctorCheck } from '../../protocol/index.js';
import type { DoctorCheckProvider } from './context.js';

export type DoctorCheckResult = Static<typeof DoctorCheck>;

export async function runDoctorChecks(providers: Map<string, DoctorCheckProvider>): Promise<DoctorCheckResult[]> {
  const results: DoctorCheckResult[] = [];
  for (const [name, provider] of providers) {
    try {
      const outcome = await provider();
      results.push(...(Array.isArray(outcome) ? outcome : [outcome]));
    } catch (error) {
      results.push({ name, status: 'error', detail: `the check itself failed: ${(error as Error).message}`, fix: 'Report this with the log file.' });
    }
  }
  return results;
}
