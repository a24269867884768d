/**
 * The c2 relation from an SMGD run's log: per epoch, the mean of SMGD's c2 over
 * the epoch's steps (the epoch record's `weights`, Keras's per-epoch figure),
 * the dense weights left (ITP), and from the step lines (every `logEverySteps`):
 * the mean Gram entries g1·g1, g1·g2 and g2·g2 and the two predictions of c2 —
 * the closed form (g11 − g12)/(g11 − 2·g12 + g22), clipped to [0, 1], evaluated
 * per logged step and averaged, and the approximation (g11 − g12)/N with N the
 * non-zero dense weights (g2·g2 ≈ N: the ℓ1 gradient is sign(w) on the dense
 * kernels, plus a small conv-L2 part).
 *
 *   pnpm --filter @moprune/experiment-reiners2020 exec tsx scripts/c2-relation.ts <run-dir> [every]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, everyArg] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: tsx scripts/c2-relation.ts <run-dir> [every-nth-epoch]');
  process.exit(2);
}
const every = Number(everyArg ?? 1);
type Step = { type: 'step'; epoch: number; weights: number[]; extra: Record<string, number> };
type Epoch = {
  type: 'epoch';
  epoch: number;
  weights?: number[];
  metrics: Record<string, number>;
  validation?: { accuracy: number[] };
};
const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Step | Epoch | { type: string });
const steps = lines.filter((l): l is Step => l.type === 'step');
const epochs = lines.filter((l): l is Epoch => l.type === 'epoch');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fmt = (x: number, d = 2) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(d) : x.toFixed(d + 2));
console.log(
  '| epoch | mean c2 (all steps) | mean c2 (logged steps) | closed form | (g11 − g12)/N | mean g1·g1 | mean g1·g2 | mean g2·g2 | N (dense non-zero) | test acc. |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const e of epochs) {
  if ((e.epoch + 1) % every !== 0 && e.epoch !== 0 && e !== epochs[epochs.length - 1]) continue;
  const s = steps.filter((x) => x.epoch === e.epoch && x.extra.gram11 !== undefined);
  const g11 = s.map((x) => x.extra.gram11!);
  const g12 = s.map((x) => x.extra.gram12!);
  const g22 = s.map((x) => x.extra.gram22!);
  const closed = s.map((x) => {
    const { gram11: a, gram12: b, gram22: c } = x.extra as { gram11: number; gram12: number; gram22: number };
    const den = a - 2 * b + c;
    return den <= 0 ? 0 : Math.min(1, Math.max(0, (a - b) / den));
  });
  const n = e.metrics['denseKernels.nonzero'] ?? Number.NaN;
  const approx = s.map((x) => Math.max(0, x.extra.gram11! - x.extra.gram12!) / n);
  console.log(
    `| ${e.epoch + 1} | ${e.weights ? fmt(e.weights[1]!) : '—'} | ${fmt(mean(s.map((x) => x.weights[1]!)))} | ${fmt(mean(closed))} | ${fmt(mean(approx))} | ${fmt(mean(g11))} | ${fmt(mean(g12))} | ${Math.round(mean(g22))} | ${n} | ${e.validation ? (100 * e.validation.accuracy[0]!).toFixed(2) + '%' : '—'} |`,
  );
}
