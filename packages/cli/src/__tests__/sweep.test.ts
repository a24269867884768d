import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineExperiment, registries } from '@moprune/core';
import { mnistFixtureDir } from '@moprune/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../index.js';
import { memoryIo } from './helpers.js';
import { freePort, redisCli, startTestRedis, type TestRedis } from './redis.js';

const PKG = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(createRequire(join(PKG, 'package.json')).resolve('tsx')).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Cli = ChildProcess & { output: () => string; exited: Promise<number | null> };

/** The CLI's bin (TypeScript source, through tsx) as a child process. */
function spawnCli(args: readonly string[], cwd: string): Cli {
  const child = spawn(process.execPath, ['--import', TSX, join(PKG, 'src/bin.ts'), ...args], {
    cwd,
    env: { ...process.env, MOPRUNE_BACKEND: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => {
    text += String(d);
  });
  child.stderr!.on('data', (d) => {
    text += String(d);
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return Object.assign(child, { output: () => text, exited });
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A tiny real experiment: an MLP on the 40 MNIST-format fixture digits (32
 * train, 8 validation, 8 steps an epoch), CE + ℓ1 by SMGD, ITP.
 */
function tiny(seed: number, hidden: number, epochs = 2, everySteps = 0) {
  return {
    dataset: { type: 'mnist', dir: mnistFixtureDir, validationSize: 8 },
    model: { type: 'mlp', hidden: [hidden] },
    objectives: [{ type: 'crossEntropy' }, { type: 'l1' }],
    solver: { type: 'smgd', lr: 0.05 },
    pruners: [{ type: 'itp', threshold: 0.001 }],
    training: {
      epochs,
      batchSize: 4,
      seed,
      ...(everySteps > 0 ? { checkpoint: { everySteps, keep: 2 } } : {}),
    },
  };
}

const outcome = (store: string, sweep: string, trial: string) =>
  readFileSync(join(store, sweep, trial, 'outcome.json'), 'utf8');
const state = (store: string, sweep: string) =>
  JSON.parse(readFileSync(join(store, sweep, 'sweep-state.json'), 'utf8')) as {
    status: string;
    trials: { id: string; status: string }[];
  };
const count = (text: string, needle: string) => text.split(needle).length - 1;

let root: string;
let redis: TestRedis;
const workers: Cli[] = [];

function worker(store: string, extra: readonly string[] = []): Cli {
  const w = spawnCli(
    ['worker', '--redis', redis.url, '--store', store, '--slots', '1', '--backend', 'cpu', ...extra],
    root,
  );
  workers.push(w);
  return w;
}
const ready = (w: Cli) => until('a worker to be ready', () => w.output().includes('ready on queue'));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-sweep-'));
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await redis?.dispose();
  rmSync(root, { recursive: true, force: true });
});

function sweepFile(name: string, doc: object): string {
  const file = join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('moprune sweep + worker on BullMQ', () => {
  const store = () => join(root, 'store');
  // Shared by the tests below: workers keep serving the queue between them.
  let b: Cli;
  let c: Cli;

  it('kill -9 of a worker mid-trial: another worker resumes the trial from its checkpoint; nothing is lost or finished twice', async () => {
    const long = tiny(5, 16, 40, 16);
    const file = sweepFile('kill', {
      id: 'kill',
      trials: [
        { id: 'long', config: long },
        { id: 'short-a', config: tiny(1, 4) },
        { id: 'short-b', config: tiny(2, 4) },
      ],
    });
    const a = worker(store(), ['--lock-duration', '1500', '--stalled-interval', '500']);
    await ready(a);
    const { io, stderr } = memoryIo(root);
    const run = main(['sweep', file, '--redis', redis.url, '--store', store(), '--quiet'], io);
    // The reference: the same trial, uninterrupted, on the local pool (runs meanwhile).
    const reference = sweepFile('kill-ref', { id: 'kill', trials: [{ id: 'long', config: long }] });
    const local = main(
      ['sweep', reference, '--store', join(root, 'ref'), '--backend', 'cpu', '--quiet'],
      memoryIo(root).io,
    );
    const ckpt = join(store(), 'kill', 'long', 'checkpoint');
    await until(
      'the first checkpoint of the long trial',
      () => existsSync(ckpt) && readdirSync(ckpt).some((d) => d.startsWith('ckpt-')),
    );
    a.kill('SIGKILL');
    await a.exited;
    b = worker(store(), ['--lock-duration', '1500', '--stalled-interval', '500']);
    expect(await run).toBe(EXIT.OK);
    expect(await local).toBe(EXIT.OK);

    const result = JSON.parse(readFileSync(join(store(), 'kill', 'long', 'result.json'), 'utf8'));
    expect(result.status).toBe('completed');
    expect(result.resumedFromStep).toBeGreaterThan(0);
    const steps = readFileSync(join(store(), 'kill', 'long', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"step"'))
      .map((l) => JSON.parse(l).step as number);
    expect(steps).toEqual(Array.from({ length: 320 }, (_, i) => i));
    // Bit for bit what the uninterrupted run on the local pool wrote.
    expect(outcome(store(), 'kill', 'long')).toBe(outcome(join(root, 'ref'), 'kill', 'long'));
    expect(a.output()).not.toContain('kill/long done');
    expect(b.output()).toContain('kill/long started');
    const logs = a.output() + b.output();
    for (const t of ['long', 'short-a', 'short-b']) expect(count(logs, `kill/${t} done`)).toBe(1);
    expect(state(store(), 'kill').trials.map((t) => t.status)).toEqual(['done', 'done', 'done']);
    expect(stderr()).toContain('stalled');
  });

  it('8 tiny trials on 2 workers give the same outcome files as the local pool', async () => {
    c = worker(store());
    await ready(c);
    await ready(b);
    const doc = { id: 'same', base: tiny(0, 4), grid: { 'model.hidden': [[4], [8]] }, seeds: [1, 2, 3, 4] };
    const file = sweepFile('same', doc);
    const local = join(root, 'local');
    expect(
      await main(
        ['sweep', file, '--store', local, '--workers', '2', '--backend', 'cpu', '--quiet'],
        memoryIo(root).io,
      ),
    ).toBe(EXIT.OK);
    expect(
      await main(['sweep', file, '--redis', redis.url, '--store', store(), '--quiet'], memoryIo(root).io),
    ).toBe(EXIT.OK);
    const trials = state(local, 'same').trials.map((t) => t.id);
    expect(trials).toHaveLength(8);
    for (const t of trials) expect(outcome(store(), 'same', t)).toBe(outcome(local, 'same', t));
    // Both workers took trials.
    expect(b.output()).toContain('same/');
    expect(c.output()).toContain('same/');
  });

  it('Redis restarted in the middle of a sweep: the sweep completes when it is back, nothing lost', async () => {
    const file = sweepFile('restart', {
      id: 'restart',
      base: tiny(0, 8, 6),
      seeds: [1, 2, 3, 4, 5, 6],
    });
    const { io, stderr } = memoryIo(root);
    const run = main(['sweep', file, '--redis', redis.url, '--store', store()], io);
    await until(
      'a finished trial',
      () =>
        existsSync(join(store(), 'restart')) &&
        readdirSync(join(store(), 'restart')).some((d) =>
          existsSync(join(store(), 'restart', d, 'outcome.json')),
        ),
    );
    await redis.stop();
    await sleep(1500);
    await redis.start();
    expect(await run).toBe(EXIT.OK);
    const s = state(store(), 'restart');
    expect(s.status).toBe('completed');
    expect(s.trials.map((t) => t.status)).toEqual(Array(6).fill('done'));
    expect(stderr()).toMatch(/lost Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('a killed coordinator, restarted, picks up the state and enqueues only what is missing', async () => {
    // Worker b was started with a 1.5 s job lock (the kill test above): on a loaded machine a job of its
    // can stall and run again elsewhere, which this test must not mistake for a re-enqueued trial.
    b.kill('SIGTERM');
    await b.exited;
    b = worker(store());
    await ready(b);
    const file = sweepFile('coord', { id: 'coord', base: tiny(0, 8, 10), seeds: [1, 2, 3, 4, 5] });
    const first = spawnCli(['sweep', file, '--redis', redis.url, '--store', store()], root);
    await until(
      'a finished trial',
      () =>
        existsSync(join(store(), 'coord', 'sweep-state.json')) &&
        state(store(), 'coord').trials.some((t) => t.status === 'done'),
    );
    first.kill('SIGKILL');
    await first.exited;
    const { io, stderr } = memoryIo(root);
    expect(await main(['sweep', file, '--redis', redis.url, '--store', store()], io)).toBe(EXIT.OK);
    expect(stderr()).toContain('resumed from its state file');
    const s = state(store(), 'coord');
    expect(s.trials.map((t) => t.status)).toEqual(Array(5).fill('done'));
    // One job per trial in the queue, and every trial started and finished once.
    expect(redisCli(redis.port, 'keys', 'bull:moprune-trials:coord--*')).toHaveLength(5);
    const logs = b.output() + c.output();
    for (const t of s.trials) {
      expect(count(logs, `coord/${t.id} started`)).toBe(1);
      expect(count(logs, `coord/${t.id} done`)).toBe(1);
    }
  });

  it('stops its workers gracefully on SIGTERM', async () => {
    for (const w of [b, c]) w.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(await c.exited).toBe(0);
    expect(b.output()).toContain('stopping');
  });
});

describe('moprune sweep: bad input fails before anything is enqueued', () => {
  const keys = () => redisCli(redis.port, 'keys', '*');
  const good = () => sweepFile('good', { id: 'good', base: tiny(0, 4), seeds: [1, 2] });

  it('unreachable Redis: one clear error within seconds naming the URL', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    for (const args of [
      ['sweep', good(), '--redis', url, '--store', join(root, 'x')],
      ['worker', '--redis', url, '--store', join(root, 'x')],
    ]) {
      const { io, stderr } = memoryIo(root);
      const t0 = Date.now();
      expect(await main(args, io)).toBe(EXIT.FAILURE);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(stderr()).toContain(`error REDIS_UNREACHABLE: cannot reach Redis at ${url}`);
      expect(stderr().trim().split('\n')).toHaveLength(1);
    }
  });

  it('a malformed sweep file or invalid trial configs: a typed error listing every problem, nothing enqueued', async () => {
    const before = keys();
    const cases: [object | string, string, string[]][] = [
      ['{ not json', 'INVALID_JSON', []],
      [
        { id: 'bad id!', base: tiny(0, 4), grid: { 'model.hidden': [] }, seeds: [-1], extra: 1 },
        'INVALID_SWEEP',
        ['id:', 'grid.model.hidden: needs at least one value', 'seeds[0]', 'extra: unknown field'],
      ],
      [
        {
          id: 'badtrials',
          trials: [
            { id: 'a', config: { ...tiny(0, 4), solver: { type: 'smgd', lr: -1 } } },
            { id: 'b', config: { ...tiny(0, 4), model: { type: 'no-such-model' } } },
            { id: 'c', config: tiny(0, 4) },
          ],
        },
        'INVALID_TRIAL',
        ['trials[a].solver.lr', "trials[b].model.type: unknown model 'no-such-model'"],
      ],
    ];
    for (const [doc, code, lines] of cases) {
      const file = join(root, 'bad.json');
      writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
      const { io, stderr } = memoryIo(root);
      const s = join(root, 'bad-store');
      expect(await main(['sweep', file, '--redis', redis.url, '--store', s], io)).toBe(EXIT.FAILURE);
      expect(stderr()).toContain(`error ${code}`);
      for (const l of lines) expect(stderr()).toContain(l);
      expect(existsSync(s)).toBe(false);
    }
    expect(keys()).toEqual(before);
  });

  it('a store that is not writable: an error before enqueuing', async () => {
    const before = keys();
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const { io, stderr } = memoryIo(root);
    expect(await main(['sweep', good(), '--redis', redis.url, '--store', join(file, 'store')], io)).toBe(
      EXIT.FAILURE,
    );
    expect(stderr()).toContain('error STORE_NOT_WRITABLE');
    expect(keys()).toEqual(before);
  });

  it('two coordinators on one sweep id: the second refuses', async () => {
    const s = join(root, 'two');
    mkdirSync(s, { recursive: true });
    for (const args of [
      ['--redis', redis.url],
      ['--backend', 'cpu', '--workers', '1'],
    ]) {
      const controller = new AbortController();
      const first = main(['sweep', good(), '--store', s, ...args, '--quiet'], {
        ...memoryIo(root).io,
        signal: controller.signal,
      });
      await until('the first coordinator to start', () => existsSync(join(s, 'good', 'sweep-state.json')));
      const { io, stderr } = memoryIo(root);
      expect(await main(['sweep', good(), '--store', s, ...args], io)).toBe(EXIT.FAILURE);
      expect(stderr()).toMatch(/error SWEEP_LOCKED: sweep 'good' is being coordinated by pid \d+/);
      controller.abort();
      expect([EXIT.INTERRUPTED, EXIT.OK]).toContain(await first);
      rmSync(join(s, 'good'), { recursive: true, force: true });
    }
  });
});

describe('moprune reproduce hands an experiment the sweep executor', () => {
  it('moprune sweep <experiment> --workers N (= reproduce) runs its sweep on the local pool, into --out; --redis without --store is a usage error', async () => {
    const { planSweep, sweepHookOf } = await import('@moprune/sweep');
    defineExperiment({
      name: 'sweep-demo',
      description: 'two tiny trials through options.runSweep (tests)',
      modes: { quick: 'two tiny trials', full: 'the same' },
      async run(o) {
        const hook = sweepHookOf(o)!;
        const r = await hook.run(planSweep({ id: 'seeds', base: tiny(0, 4), seeds: [1, 2] }));
        return {
          status: r.status === 'interrupted' ? 'interrupted' : 'completed',
          reportDir: join(hook.store, 'seeds'),
          summary: [`${r.outcomes.size} outcomes in ${hook.store}`],
        };
      },
    });
    try {
      const out = join(root, 'demo');
      const { io, stdout, stderr } = memoryIo(root);
      expect(
        await main(
          ['sweep', 'sweep-demo', '--quick', '--out', out, '--workers', '2', '--backend', 'cpu', '--quiet'],
          io,
        ),
        stderr(),
      ).toBe(EXIT.OK);
      expect(stdout(), stderr()).toContain(`2 outcomes in ${out}`);
      expect(
        readdirSync(join(out, 'seeds')).filter((d) => existsSync(join(out, 'seeds', d, 'outcome.json'))),
      ).toHaveLength(2);
      const bad = memoryIo(root);
      expect(await main(['reproduce', 'sweep-demo', '--redis', redis.url], bad.io)).toBe(EXIT.USAGE);
      expect(bad.stderr()).toContain('--redis needs --store');
    } finally {
      registries().experiments.unregister('sweep-demo');
    }
  });
});
