import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineExperiment, type ExperimentSpec, registries, runExperiment } from '@moprune/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, EXIT, listExperiments, main, trainProgress } from '../index.js';
import { memoryIo, tinyConfig } from './helpers.js';

const unregisterExperiment = (name: string) => registries().experiments.unregister(name);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'moprune-cli-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('usage', () => {
  it('--help prints every command and exits 0', async () => {
    const m = memoryIo(root);
    expect(await main(['--help'], m.io)).toBe(EXIT.OK);
    for (const c of COMMANDS) expect(m.stdout()).toContain(`${c.name} ${c.args}`);
    expect(m.stderr()).toBe('');
  });

  it('no command prints the usage to stderr and exits 2', async () => {
    const m = memoryIo(root);
    expect(await main([], m.io)).toBe(EXIT.USAGE);
    expect(m.stderr()).toContain('Usage: moprune <command>');
  });

  it('an unknown command exits 2 with the error code, the valid commands and the usage', async () => {
    const m = memoryIo(root);
    expect(await main(['trian'], m.io)).toBe(EXIT.USAGE);
    expect(m.stderr()).toContain(
      "moprune: error USAGE: unknown command 'trian'; commands: reproduce, train, sweep, worker, report, export, list",
    );
    expect(m.stderr()).toContain('Usage: moprune <command>');
    expect(m.stdout()).toBe('');
  });

  it('an unknown flag exits 2 and lists the command’s valid options', async () => {
    const m = memoryIo(root);
    expect(await main(['train', 'x.json', '--epochs', '3'], m.io)).toBe(EXIT.USAGE);
    expect(m.stderr()).toContain("unknown option '--epochs'");
    expect(m.stderr()).toContain("valid options of 'train': --out, --resume, --force, --backend");
    expect(m.stderr()).toContain('Usage: moprune train <config.json> [options]');
  });

  it('every command has --help (exit 0, its own usage) and `help <command>` works too', async () => {
    for (const c of COMMANDS) {
      const m = memoryIo(root);
      expect(await main([c.name, '--help'], m.io)).toBe(EXIT.OK);
      expect(m.stdout()).toContain(`Usage: moprune ${c.name} ${c.args} [options]`);
      for (const o of c.options) expect(m.stdout()).toContain(`--${o.name}`);
    }
    const m = memoryIo(root);
    expect(await main(['help', 'report'], m.io)).toBe(EXIT.OK);
    expect(m.stdout()).toContain('Usage: moprune report <dir>');
  });

  it('--version prints the package version', async () => {
    const m = memoryIo(root);
    expect(await main(['--version'], m.io)).toBe(EXIT.OK);
    expect(m.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('missing and extra arguments and bad values are usage errors (exit 2)', async () => {
    for (const argv of [
      ['train'],
      ['train', 'a.json', 'b.json'],
      ['report'],
      ['list', 'gizmos'],
      ['reproduce', 'x', '--quick', '--full'],
      ['reproduce', 'x', '--seed', '-1'],
      ['train', 'a.json', '--backend', 'gpu'],
    ]) {
      const m = memoryIo(root);
      expect(await main(argv, m.io), argv.join(' ')).toBe(EXIT.USAGE);
      expect(m.stderr()).toContain('moprune: error USAGE');
    }
  });

  it('says what is wrong: a negative seed, an output path under a file, a missing backend package', async () => {
    // `--seed -1` reaches the option's own check instead of the parser's "argument is ambiguous".
    const seed = memoryIo(root);
    expect(await main(['reproduce', 'x', '--seed', '-1'], seed.io)).toBe(EXIT.USAGE);
    expect(seed.stderr()).toContain("--seed must be an integer ≥ 0, got '-1'");
    expect(seed.stderr()).not.toContain('ambiguous');
    // An output directory under a file: a typed, documented code naming the directory.
    writeFileSync(join(root, 'a-file'), 'x');
    writeFileSync(join(root, 'cfg.json'), JSON.stringify(tinyConfig()));
    const out = memoryIo(root);
    expect(await main(['train', 'cfg.json', '--out', 'a-file/run'], out.io)).toBe(EXIT.FAILURE);
    expect(out.stderr()).toContain(
      `moprune: error NOT_WRITABLE: cannot create the output directory ${join(root, 'a-file/run')}: a part of the path is a file`,
    );
    // A backend asked for on the command line is named as the command line named it.
    const backend = memoryIo(root, { MOPRUNE_BACKEND: undefined });
    expect(await main(['train', 'cfg.json', '--out', 'b', '--backend', 'tensorflow'], backend.io)).toBe(
      EXIT.FAILURE,
    );
    expect(backend.stderr()).toContain("Backend 'tensorflow' was requested by --backend tensorflow");
  });
});

describe('list', () => {
  it('lists every registered component kind with descriptions', async () => {
    const m = memoryIo(root);
    expect(await main(['list'], m.io)).toBe(EXIT.OK);
    const out = m.stdout();
    for (const heading of ['experiments:', 'models:', 'datasets:', 'objectives:', 'solvers:', 'pruners:']) {
      expect(out).toContain(heading);
    }
    for (const name of ['mlp', 'lenet5', 'mnist', 'crossEntropy', 'l1', 'smgd', 'weighted-sum', 'itp']) {
      expect(out).toMatch(new RegExp(`\\n  ${name} +\\S`));
    }
  });

  it('one kind as JSON', async () => {
    const m = memoryIo(root);
    expect(await main(['list', 'solvers', '--json'], m.io)).toBe(EXIT.OK);
    const json = JSON.parse(m.stdout()) as { solvers: { name: string; description: string }[] };
    expect(Object.keys(json)).toEqual(['solvers']);
    expect(json.solvers.map((s) => s.name)).toEqual(['chebyshev-al', 'madam', 'smgd', 'weighted-sum']);
  });

  it("--fields shows each component's config fields from its schema; --json always has them", async () => {
    const m = memoryIo(root);
    expect(await main(['list', 'objectives', '--fields'], m.io)).toBe(EXIT.OK);
    const out = m.stdout();
    expect(out).toMatch(
      /\n {2}nll +negative log-likelihood[^\n]*\n( {6}\S[^\n]*\n)* {6}task +an integer ≥ 0\n/,
    );
    expect(out).toMatch(/\n {6}coefficient\? +a number ≥ 0\n/);
    expect(out).toMatch(/\n {6}params\? +a parameter selector like/);
    const plain = memoryIo(root);
    expect(await main(['list', 'objectives'], plain.io)).toBe(EXIT.OK);
    expect(plain.stdout()).not.toContain('coefficient?');
    const j = memoryIo(root);
    expect(await main(['list', 'pruners', '--json'], j.io)).toBe(EXIT.OK);
    type Entry = { name: string; fields: { name: string; optional: boolean; description: string }[] };
    const relevance = (JSON.parse(j.stdout()) as { pruners: Entry[] }).pruners.find(
      (p) => p.name === 'relevance',
    )!;
    expect(relevance.fields.find((f) => f.name === 'fraction')).toEqual({
      name: 'fraction',
      optional: true,
      description: 'a number > 0 and < 1',
    });
  });

  it('imports experiment modules given with --module (a plain exported definition registers)', async () => {
    const file = join(root, 'exp-module.mjs');
    writeFileSync(
      file,
      `export const experiment = { name: 'from-module', description: 'loaded by path', modes: { quick: 'q', full: 'f' }, run: async () => ({ status: 'completed' }) };\n`,
    );
    const m = memoryIo(root);
    expect(await main(['list', 'experiments', '--module', './exp-module.mjs'], m.io)).toBe(EXIT.OK);
    expect(m.stdout()).toMatch(/from-module +loaded by path/);
    unregisterExperiment('from-module');
    const bad = memoryIo(root);
    expect(await main(['list', '--module', './missing.mjs'], bad.io)).toBe(EXIT.FAILURE);
    expect(bad.stderr()).toContain('MODULE_LOAD_FAILED');
  });
});

describe('train', () => {
  it('trains a JSON config, writes the run and its report, prints the headline figures', async () => {
    writeFileSync(join(root, 'tiny.json'), JSON.stringify(tinyConfig()));
    const m = memoryIo(root);
    expect(await main(['train', 'tiny.json', '--out', 'runs/tiny'], m.io)).toBe(EXIT.OK);
    const dir = join(root, 'runs/tiny');
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'result.json',
      'report.md',
      'weights.svg',
      'sparsity.svg',
    ]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(16);
    expect(m.stdout()).toContain(`run: ${dir} (completed, 16 steps`);
    expect(m.stdout()).toMatch(/test accuracy: \d+\.\d\d%/);
    expect(m.stdout()).toContain(`report: ${join(dir, 'report.md')}`);
    // Not a TTY: no progress line.
    expect(m.stderr()).not.toContain('\r');
    expect(m.stderr()).not.toContain('batch [');
  });

  it('refuses to overwrite a run without --resume or --force (exit 1, RUN_EXISTS)', async () => {
    const m = memoryIo(root);
    expect(await main(['train', 'tiny.json', '--out', 'runs/tiny'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('moprune: error RUN_EXISTS');
    expect(m.stderr()).toContain('--resume');
  });

  it('--resume of a finished run keeps it finished', async () => {
    const m = memoryIo(root);
    expect(await main(['train', 'tiny.json', '--out', 'runs/tiny', '--resume'], m.io)).toBe(EXIT.OK);
    const result = JSON.parse(readFileSync(join(root, 'runs/tiny/result.json'), 'utf8'));
    expect(result.steps).toBe(16);
    expect(result.resumedFromStep).toBe(16);
  });

  it('an invalid config exits 1 listing every problem with its path, before writing anything', async () => {
    const bad = tinyConfig();
    (bad.objectives[0] as { type: string }).type = 'cross-entropy';
    (bad.training as { epochs: number }).epochs = 0;
    writeFileSync(join(root, 'bad.json'), JSON.stringify(bad));
    const m = memoryIo(root);
    expect(await main(['train', 'bad.json', '--out', 'runs/bad'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('moprune: error INVALID_CONFIG');
    expect(m.stderr()).toContain("objectives[0].type: unknown objective 'cross-entropy'");
    expect(m.stderr()).toContain('training.epochs');
    expect(existsSync(join(root, 'runs/bad'))).toBe(false);
  });

  it('a missing or malformed config file exits 1 with FILE_NOT_FOUND / INVALID_JSON', async () => {
    const m = memoryIo(root);
    expect(await main(['train', 'nope.json'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('moprune: error FILE_NOT_FOUND');
    writeFileSync(join(root, 'broken.json'), '{ "name": ');
    const b = memoryIo(root);
    expect(await main(['train', 'broken.json'], b.io)).toBe(EXIT.FAILURE);
    expect(b.stderr()).toContain('moprune: error INVALID_JSON');
  });
});

describe('report', () => {
  it('writes the report of a run directory', async () => {
    const m = memoryIo(root);
    expect(await main(['report', 'runs/tiny'], m.io)).toBe(EXIT.OK);
    expect(m.stdout()).toContain('run report:');
    expect(m.stdout()).toContain(join(root, 'runs/tiny/report.md'));
    expect(readFileSync(join(root, 'runs/tiny/report.md'), 'utf8')).toContain('## Weights kept per layer');
  });

  it('adds paper figures from --paper', async () => {
    writeFileSync(
      join(root, 'paper.json'),
      JSON.stringify({
        source: 'Reiners et al. (2020)',
        figures: [
          { label: 'dense weights kept', paper: 2577, fact: 'denseKernels.nonzero', format: 'count' },
        ],
      }),
    );
    const m = memoryIo(root);
    expect(await main(['report', 'runs/tiny', '--paper', 'paper.json'], m.io)).toBe(EXIT.OK);
    expect(readFileSync(join(root, 'runs/tiny/report.md'), 'utf8')).toContain(
      '| dense weights kept | 2,577 |',
    );
  });

  it('a directory without runs exits 1 with RUN_NOT_FOUND', async () => {
    mkdirSync(join(root, 'empty'), { recursive: true });
    const m = memoryIo(root);
    expect(await main(['report', 'empty'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('moprune: error RUN_NOT_FOUND');
  });
});

describe('reproduce', () => {
  /** A stand-in for experiments/reiners2020: a two-candidate sweep through core's runExperiment. */
  const fake: ExperimentSpec = {
    name: 'fake2020',
    description: 'two tiny candidates',
    modes: { quick: '1 epoch each', full: '2 epochs each' },
    defaultSeed: 5,
    paper: {
      source: 'Fake (2020)',
      figures: [{ label: 'test accuracy', paper: 0.9, fact: 'test.accuracy', format: 'percent' }],
    },
    async run(o) {
      const candidates = o.progress.task('candidate', 2, { unit: 'runs' });
      for (const [i, solver] of [
        { type: 'weighted-sum', weights: [1, 0] },
        { type: 'smgd', lr: 0.05 },
      ].entries()) {
        const config = tinyConfig({ epochs: o.mode === 'quick' ? 1 : 2, name: `c${i}` });
        const bar = trainProgress(o.progress);
        const { summary } = await runExperiment(
          { ...config, solver, training: { ...config.training, seed: o.seed } },
          {
            runDir: join(o.outDir, `c${i}`),
            resume: o.resume ? 'auto' : false,
            signal: o.signal,
            callbacks: [bar],
          },
        );
        bar.finish();
        if (summary.status === 'interrupted') return { status: 'interrupted' };
        candidates.tick();
      }
      candidates.done();
      return { status: 'completed', summary: [`mode ${o.mode}, seed ${o.seed}`], reportDirs: ['c0'] };
    },
  };

  it('runs a registered experiment and reports its sweep with the paper figures', async () => {
    defineExperiment(fake);
    try {
      const m = memoryIo(root);
      expect(await main(['reproduce', 'fake2020', '--quick'], m.io)).toBe(EXIT.OK);
      const out = join(root, 'results/fake2020/quick-seed5');
      expect(m.stdout()).toContain('mode quick, seed 5');
      expect(m.stdout()).toContain(`report: ${join(out, 'report.md')}`);
      // The extra report directory (one run of the sweep) gets its own report, printed first.
      expect(m.stdout()).toContain(
        `report: ${join(out, 'c0', 'report.md')}\nreport: ${join(out, 'report.md')}`,
      );
      expect(readFileSync(join(out, 'c0', 'report.md'), 'utf8')).toContain('## Weights kept per layer');
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| c0 | completed |');
      expect(md).toContain('| c1 | completed |');
      expect(md).toContain('Against Fake (2020)');
      expect(existsSync(join(out, 'front.svg'))).toBe(true);
      expect(m.stderr()).toContain('fake2020, quick mode (1 epoch each), seed 5');
    } finally {
      unregisterExperiment('fake2020');
    }
  });

  it("parses an experiment's own options, shows them in --help, and names them in the resume command", async () => {
    const seen: Record<string, unknown>[] = [];
    const withOptions: ExperimentSpec = {
      name: 'opts2023',
      description: 'options only',
      modes: { quick: 'q', full: 'f' },
      options: [
        { name: 'method', type: 'string', arg: 'LIST', help: 'Methods to run' },
        { name: 'pretrain', type: 'boolean', help: 'Pretrain first' },
      ],
      async run(o) {
        seen.push({ ...o.args });
        return { status: 'interrupted' };
      },
    };
    defineExperiment(withOptions);
    try {
      const help = memoryIo(root);
      expect(await main(['reproduce', 'opts2023', '--help'], help.io)).toBe(EXIT.OK);
      expect(help.stdout()).toContain('--method LIST');
      expect(help.stdout()).toContain('Pretrain first');
      const m = memoryIo(root);
      expect(
        await main(
          ['reproduce', '--seed', '3', 'opts2023', '--quick', '--method', 'a,b', '--pretrain'],
          m.io,
        ),
      ).toBe(EXIT.INTERRUPTED);
      expect(seen).toEqual([{ method: 'a,b', pretrain: true }]);
      // The banner names the options given beside the mode's description.
      expect(m.stderr()).toContain(
        "opts2023, quick mode (q), options --method a,b --pretrain (over the mode's defaults), seed 3",
      );
      expect(m.stderr()).toContain(
        'moprune reproduce opts2023 --quick --seed 3 --method a,b --pretrain --out',
      );
      // Another experiment does not accept them.
      defineExperiment(fake);
      const bad = memoryIo(root);
      expect(await main(['reproduce', 'fake2020', '--quick', '--method', 'a'], bad.io)).toBe(EXIT.USAGE);
    } finally {
      unregisterExperiment('opts2023');
      unregisterExperiment('fake2020');
    }
  });

  it('an unknown experiment exits 2 naming the registered ones', async () => {
    defineExperiment(fake);
    try {
      const m = memoryIo(root);
      expect(await main(['reproduce', 'reiners2019'], m.io)).toBe(EXIT.USAGE);
      expect(m.stderr()).toContain(
        "moprune: error UNKNOWN_EXPERIMENT: unknown experiment 'reiners2019'; registered: fake2020",
      );
    } finally {
      unregisterExperiment('fake2020');
    }
    expect(listExperiments().map((e) => e.name)).not.toContain('fake2020');
  });

  it('finds @moprune/experiment-<name> installed in the working directory; an interrupted experiment exits 130', async () => {
    const cwd = join(root, 'project');
    const pkg = join(cwd, 'node_modules/@moprune/experiment-conv');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@moprune/experiment-conv',
        version: '0.0.0',
        type: 'module',
        exports: './index.mjs',
      }),
    );
    writeFileSync(
      join(pkg, 'index.mjs'),
      `export const experiment = { name: 'conv', description: 'by convention', modes: { quick: 'q', full: 'f' },
        run: async (o) => ({ status: o.signal.aborted ? 'interrupted' : 'completed' }) };\n`,
    );
    const controller = new AbortController();
    controller.abort();
    const m = memoryIo(cwd);
    try {
      expect(
        await main(['reproduce', 'conv', '--quick', '--seed', '7'], { ...m.io, signal: controller.signal }),
      ).toBe(EXIT.INTERRUPTED);
      expect(m.stderr()).toContain(
        `Continue with: moprune reproduce conv --quick --seed 7 --out ${join(cwd, 'results/conv/quick-seed7')} --resume`,
      );
    } finally {
      unregisterExperiment('conv');
    }
  });
});
