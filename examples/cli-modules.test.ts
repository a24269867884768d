/**
 * The contributor examples as a newcomer uses them: `moprune train cfg.json --module <file>` trains
 * with the example solver, pruner, objective, dataset and model — one file each outside `packages/`, loaded by the
 * CLI, no existing file touched — and a config naming a component nobody registered fails, listing
 * the registered ones of that kind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
/** The examples are TypeScript: the CLI imports them through tsx's loader, as the workspace's experiments. */
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;
const PRUNER = join(ROOT, 'examples', 'contrib-pruner', 'random-pruner.ts');
const SOLVER = join(ROOT, 'examples', 'contrib-solver', 'normalized-sum.ts');
const OBJECTIVE = join(ROOT, 'examples', 'contrib-objective', 'max-norm.ts');
const DATASET = join(ROOT, 'examples', 'contrib-dataset', 'noisy-bars.ts');
const MODEL = join(ROOT, 'examples', 'contrib-model', 'tiny-cnn.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'moprune-contrib-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const config = {
  name: 'contrib',
  dataset: { type: 'mnist', validationSize: 1000 },
  model: { type: 'mlp', hidden: [16] },
  objectives: [{ type: 'crossEntropy' }, { type: 'max-norm', maxNorm: 1 }],
  solver: { type: 'normalized-sum', optimizer: { type: 'sgd', lr: 0.05 } },
  pruners: [{ type: 'random', fraction: 0.1, every: 4 }],
  training: { epochs: 1, batchSize: 32, seed: 3, limit: 256, validation: { limit: 200 } },
};

function moprune(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd: dir,
    env: { ...process.env, MOPRUNE_BACKEND: 'cpu' },
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

it('trains with the example solver, pruner and objective given with --module', () => {
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(config));
  const r = moprune([
    'train',
    'cfg.json',
    '--out',
    'run',
    '--quiet',
    '--module',
    PRUNER,
    '--module',
    SOLVER,
    '--module',
    OBJECTIVE,
  ]);
  expect(r.output).not.toMatch(/error/i);
  expect(r.status).toBe(0);
  const result = JSON.parse(readFileSync(join(dir, 'run', 'result.json'), 'utf8'));
  expect(result.status).toBe('completed');
  expect(result.steps).toBe(8);
  expect(result.components.solver.type).toBe('normalized-sum');
  expect(result.components.pruners[0].type).toBe('random');
  expect(result.components.objectives.map((o: { type: string }) => o.type)).toEqual([
    'crossEntropy',
    'max-norm',
  ]);
  // Two pruning steps (after steps 4 and 8) of 10% of the live kernel weights each: about 19% pruned.
  const sparsity = result.metrics.sparsity;
  expect(sparsity).toBeGreaterThan(0.15);
  expect(sparsity).toBeLessThan(0.23);
}, 120_000);

it('without --module the config names an unknown solver: refused, listing the registered solvers', () => {
  const r = moprune(['train', 'cfg.json', '--out', 'run2', '--quiet']);
  expect(r.status).not.toBe(0);
  expect(r.output).toContain('normalized-sum');
  expect(r.output).toContain('weighted-sum');
}, 60_000);

it('trains the example model on the example dataset, both given with --module, and learns it', () => {
  const bars = {
    name: 'contrib-dataset',
    dataset: { type: 'noisy-bars', trainSize: 512, validationSize: 128, testSize: 128, seed: 1 },
    model: { type: 'tiny-cnn', filters: [4, 8] },
    objectives: [{ type: 'crossEntropy' }],
    solver: { type: 'weighted-sum', weights: [1], optimizer: { type: 'adam', lr: 0.01 } },
    pruners: [],
    training: { epochs: 3, batchSize: 32, seed: 1 },
  };
  writeFileSync(join(dir, 'bars.json'), JSON.stringify(bars));
  const r = moprune([
    'train',
    'bars.json',
    '--out',
    'bars',
    '--quiet',
    '--module',
    DATASET,
    '--module',
    MODEL,
  ]);
  expect(r.output).not.toMatch(/error/i);
  expect(r.status).toBe(0);
  const result = JSON.parse(readFileSync(join(dir, 'bars', 'result.json'), 'utf8'));
  expect(result.components.dataset.type).toBe('noisy-bars');
  expect(result.components.model.type).toBe('tiny-cnn');
  // Bars are easy: well above the 50% of guessing after three epochs.
  expect(result.test.accuracy[0]).toBeGreaterThan(0.9);
}, 120_000);
