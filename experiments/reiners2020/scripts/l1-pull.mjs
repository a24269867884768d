#!/usr/bin/env node
/**
 * How far SMGD's ℓ1 term can move a weight over a run: Σ_k lr_k·c2_k from a run's
 * metrics.jsonl (c2 is logged every `logEverySteps` steps and held between logs;
 * lr_k = lr/(1 + decay·k) from the run's config.json), and the same ×1/(1 − μ) for
 * momentum μ (the steady-state gain of a constant push). Compare it with the
 * weights' initial magnitudes (Glorot uniform: fc1 |w| < 0.107, mean 0.054).
 *
 *   node scripts/l1-pull.mjs results/full/smgd
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/l1-pull.mjs <run-dir>');
  process.exit(2);
}
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const solver = config.solver ?? config.components?.solver;
const { lr, decay = 0, momentum = 0 } = solver;
const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.includes('"type":"step"'))
  .map((l) => JSON.parse(l))
  .map((r) => ({ step: r.step, c2: r.weights[1] }));
let pull = 0;
for (let i = 0; i < steps.length; i++) {
  const end =
    i + 1 < steps.length ? steps[i + 1].step : steps[i].step + (steps[i].step - (steps[i - 1]?.step ?? 0));
  for (let k = steps[i].step; k < end; k++) pull += (lr / (1 + decay * k)) * steps[i].c2;
}
const c2s = steps.map((s) => s.c2).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    run: dir,
    lr,
    decay,
    momentum,
    loggedSteps: steps.length,
    medianC2: c2s[Math.floor(c2s.length / 2)],
    sumLrC2: pull,
    withMomentum: pull / (1 - momentum),
  }),
);
