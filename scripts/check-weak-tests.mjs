#!/usr/bin/env node
// The seven breaks issue 17 found the tests could not catch, re-introduced one at a time:
// `pnpm test:weak` applies each to its source file, runs the tests that must now catch it,
// expects them to FAIL, and restores the file. A break the tests no longer catch is a
// regression of the test suite, and the script exits 1 naming it.
//
// First the same test files run unbroken and must pass, so that a failure below is the
// break's doing. Each break is a literal text replacement that must match exactly once:
// when the code it targets moves, the script says so instead of testing nothing.
//
// Files are edited in place (the tests import siblings through the workspace) and always
// restored, also on Ctrl-C; after a hard kill `git checkout -- packages` restores them. The
// script refuses to start when one of the files it edits has uncommitted changes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The breaks: where, the exact text and its replacement, and the tests that must catch it. */
export const BREAKS = [
  {
    id: 1,
    what: 'SMGD without its learning-rate decay (the step uses lr, not lr/(1 + decay·k))',
    file: 'packages/solvers/src/solvers/smgd.ts',
    from: 'const lr = this.learningRate / (1 + this.decay * this.updates);',
    to: 'const lr = this.learningRate;',
    tests: ['packages/solvers/src/__tests__/solvers.test.ts'],
  },
  {
    id: 2,
    what: 'ITP in regrow mode skips pruning in afterStep',
    file: 'packages/pruners/src/unstructured/itp.ts',
    from: '      net = ctx.net;\n      prune();\n      return undefined;',
    to: '      net = ctx.net;\n      if (!regrow) prune();\n      return undefined;',
    tests: ['packages/pruners/src/__tests__/unstructured.test.ts'],
  },
  {
    id: 3,
    what: 'relevance pruning cuts a fraction of all weights instead of the remaining ones',
    file: 'packages/pruners/src/relevance/relevance.ts',
    from: 'Math.round(fraction * state.liveCount)',
    to: 'Math.round(fraction * state.total)',
    tests: ['packages/pruners/src/__tests__/relevance.test.ts'],
  },
  {
    id: 4,
    what: 'selective weight decay with exp(−|g|·α) instead of exp(−|g|/α)',
    file: 'packages/objectives/src/selective-weight-decay.ts',
    from: 'return tf.exp(tf.div(magnitude, -this.alpha));',
    to: 'return tf.exp(tf.mul(magnitude, -this.alpha));',
    tests: ['packages/objectives/src/__tests__/selective-weight-decay.test.ts'],
  },
  {
    id: 5,
    what: "the adaptive weight searches' front keeps dominated candidates",
    file: 'packages/solvers/src/pareto/weight-search.ts',
    from: 'return nonDominatedIndices(this.told.map((r) => r.f))\n      .map((i) => this.told[i]!)',
    to: 'return this.told\n      .map((_, i) => i)\n      .map((i) => this.told[i]!)',
    tests: ['packages/solvers/src/__tests__/pareto.test.ts'],
  },
  {
    id: 6,
    what: "Chebyshev-AL's outer update without the projection λ ← max(0, ·) (textbook form)",
    file: 'packages/solvers/src/solvers/chebyshev-al.ts',
    from: 'return this.textbook ? Math.max(0, next) : next;',
    to: 'return next;',
    tests: ['packages/solvers/src/__tests__/solvers.test.ts'],
  },
  {
    id: 7,
    what: 'Bernoulli gates remove a structure on θ alone (maxWeightRms ignored)',
    file: 'packages/pruners/src/structured/bernoulli.ts',
    from: 'run >= patience && groupRms(n, group) <= maxRms;',
    to: 'run >= patience;',
    tests: ['packages/pruners/src/__tests__/bernoulli.test.ts'],
  },
];

/** Runs Vitest on `files`; true when every test passed. */
function vitest(files) {
  const r = spawnSync('pnpm', ['exec', 'vitest', 'run', '--reporter=dot', ...files], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { passed: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function main() {
  const only = process.argv.slice(2).map(Number);
  const breaks = only.length > 0 ? BREAKS.filter((b) => only.includes(b.id)) : BREAKS;
  if (breaks.length === 0) {
    console.error(`check-weak-tests: no break numbered ${only.join(', ')}; they are 1–${BREAKS.length}`);
    process.exit(2);
  }
  const files = [...new Set(breaks.map((b) => b.file))];
  const dirty = execFileSync('git', ['status', '--porcelain', '--', ...files], {
    cwd: root,
    encoding: 'utf8',
  });
  if (dirty.trim() !== '') {
    console.error(`check-weak-tests: commit or stash these first (the script edits them):\n${dirty}`);
    process.exit(2);
  }
  const originals = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  const restore = () => {
    for (const [f, text] of originals) writeFileSync(join(root, f), text);
  };
  process.on('SIGINT', () => {
    restore();
    process.exit(130);
  });

  // Every break must still find its text exactly once.
  for (const b of breaks) {
    const count = originals.get(b.file).split(b.from).length - 1;
    if (count !== 1) {
      console.error(
        `check-weak-tests: break ${b.id} (${b.what}) expects its text once in ${b.file}, found ${count}: update the script`,
      );
      process.exit(2);
    }
  }

  const testFiles = [...new Set(breaks.flatMap((b) => b.tests))];
  const baseline = vitest(testFiles);
  if (!baseline.passed) {
    console.error(`check-weak-tests: the tests fail without any break:\n${baseline.output.slice(-4000)}`);
    process.exit(2);
  }
  console.log(`unbroken: ${testFiles.length} test files pass`);

  const missed = [];
  try {
    for (const b of breaks) {
      writeFileSync(join(root, b.file), originals.get(b.file).replace(b.from, b.to));
      const t0 = Date.now();
      const { passed } = vitest(b.tests);
      restore();
      const seconds = ((Date.now() - t0) / 1000).toFixed(0);
      console.log(
        `${passed ? 'MISSED' : 'caught'}  ${b.id}. ${b.what} — ${b.tests.join(', ')} (${seconds} s)`,
      );
      if (passed) missed.push(b);
    }
  } finally {
    restore();
  }
  if (missed.length > 0) {
    console.error(
      `check-weak-tests: ${missed.length} break(s) the tests no longer catch: ${missed.map((b) => b.id)}`,
    );
    process.exit(1);
  }
  console.log(`all ${breaks.length} breaks caught`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
