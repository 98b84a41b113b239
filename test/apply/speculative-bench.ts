// The speculative-edits part of `npm run bench -- apply`: the same rewrite decoded plainly (the
// engine's own greedy loop, one token per forward pass with a KV cache) and with speculative edits
// (the original as draft, verified in chunks), for updates changing 1%, 10% and 50% of the lines.
import { OnnxCausalLm } from '../../daemon/models/index.js';
import { localVerifier, REWRITE_STOP, rewritePrompt, speculativeDecode } from '../../daemon/apply/index.js';
import { distinctiveCode, inductionModelDir } from './induction-model.js';

export async function runSpeculativeBench(realModelDir?: string): Promise<void> {
  const models: Array<{ label: string; dir: string }> = [{ label: 'constructed induction-head model (2 layers, built by construction; test/fixtures/models/induction.ts)', dir: inductionModelDir().dir }];
  if (realModelDir) models.push({ label: `real model at ${realModelDir}`, dir: realModelDir });
  for (const { label, dir } of models) {
    console.log(`\n-- speculative edits against plain greedy decoding: ${label} --`);
    const lm = new OnnxCausalLm(dir, { threads: 2 });
    const { eosTokenIds } = await lm.load();
    const lines = distinctiveCode(100, 42, true);
    const original = `${lines.join('\n')}\n`;
    for (const share of [0.01, 0.1, 0.5]) {
      const changed = Math.max(1, Math.round(lines.length * share));
      const edited = [...lines];
      const step = lines.length / changed;
      const fresh = distinctiveCode(changed, 1000 + changed, true);
      for (let k = 0; k < changed; k++) edited[Math.floor(k * step)] = fresh[k]!;
      const updated = `${edited.join('\n')}\n`;
      const prompt = lm.tokenizer.encode(rewritePrompt(original, updated));
      const draft = lm.tokenizer.encode(`${original}\`\`\``, { addSpecialTokens: false });
      const maxTokens = Math.ceil(draft.length * 1.35) + 64;

      await lm.clearCache();
      let t0 = performance.now();
      const greedy = await lm.generate(prompt, { maxTokens, temperature: 0, stop: [REWRITE_STOP] });
      const greedyMs = performance.now() - t0;

      await lm.clearCache();
      t0 = performance.now();
      const spec = await speculativeDecode(localVerifier(lm, prompt), {
        draft,
        stopTokens: new Set(eosTokenIds),
        maxTokens,
        stopWhen: (tokens) => lm.tokenizer.decode(tokens).includes(REWRITE_STOP),
      });
      const specMs = performance.now() - t0;
      const specText = lm.tokenizer.decode(spec.tokens);
      const same = specText.slice(0, specText.indexOf(REWRITE_STOP)) === greedy.text;
      const correct = greedy.text === updated.replace(/\n$/, '');
      const greedyPasses = greedy.tokens.length + 1;
      console.log(
        `${String(Math.round(share * 100)).padStart(3)}% of lines changed (${changed}): ` +
          `acceptance ${((100 * spec.accepted) / Math.max(1, spec.drafted)).toFixed(1)}% of ${spec.drafted} drafted, ` +
          `forward passes ${spec.passes} vs ${greedyPasses} (${(greedyPasses / spec.passes).toFixed(1)}x fewer), ` +
          `wall ${specMs.toFixed(0)} ms vs ${greedyMs.toFixed(0)} ms (${(greedyMs / specMs).toFixed(1)}x less); ` +
          `output ${same ? 'identical to greedy' : 'DIFFERS from greedy'}${correct ? ', equals the update' : ''}`,
      );
    }
    await lm.dispose();
  }
}
