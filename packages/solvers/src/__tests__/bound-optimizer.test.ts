/**
 * The kit's BoundOptimizer — core's optimizer bound to a step problem's variable order — pinned
 * directly: state kept by index across variable lists of the same shapes and refused (naming the
 * counts) when the shapes or the rank change; a state loaded before binding returned verbatim and
 * then bound; load errors turned into STATE_MISMATCH with the cause kept, other errors unchanged;
 * names left out of the saved state; null directions leaving their variable alone.
 */
import type { ComponentState } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoundOptimizer } from '../kit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const made: { dispose(): void }[] = [];
afterEach(() => {
  for (const d of made.splice(0)) d.dispose();
});

function variable(values: number[], shape: number[]): tf.Variable {
  const v = tf.variable(tf.tensor(values, shape, 'float32'));
  made.push(v);
  return v;
}

function optimizer(): BoundOptimizer {
  const o = new BoundOptimizer({ type: 'adam', lr: 0.1 });
  made.push(o);
  return o;
}

/** Two Adam steps on [a, b] with fixed directions. */
function twoSteps(o: BoundOptimizer, vars: tf.Variable[]): void {
  for (const scale of [1, -2]) {
    const dirs = [tf.tensor([0.5 * scale, -1 * scale], [2]), tf.tensor([[2 * scale]], [1, 1])];
    o.bind(vars);
    o.apply(vars, dirs, 0.1);
    tf.dispose(dirs);
  }
}

const mismatch = (message: RegExp) =>
  expect.objectContaining({
    name: 'SolverError',
    code: 'STATE_MISMATCH',
    message: expect.stringMatching(message),
  });

function arraysOf(s: ComponentState): Record<string, number[]> {
  return Object.fromEntries(Object.entries(s.arrays).map(([k, a]) => [k, Array.from(a.data)]));
}

describe('BoundOptimizer', () => {
  it('keeps the state by index for another list of the same shapes; refuses other counts, shapes or ranks', () => {
    const o = optimizer();
    const [a, b] = [variable([1, 2], [2]), variable([3], [1, 1])];
    twoSteps(o, [a, b]);
    const before = o.state();
    const [c, d] = [variable([0, 0], [2]), variable([0], [1, 1])];
    o.bind([c, d]);
    expect(arraysOf(o.state())).toEqual(arraysOf(before));
    expect(o.state().json.entries).toEqual(before.json.entries);

    expect(() => o.bind([d, c])).toThrowError(mismatch(/^the variable list changed shape \(2 → 2 variables/));
    expect(() => o.bind([c])).toThrowError(mismatch(/^the variable list changed shape \(2 → 1 variables/));
    // same sizes, other rank: [2] → [2, 1]
    expect(() => o.bind([variable([0, 0], [2, 1]), d])).toThrowError(mismatch(/changed shape/));
    expect(() => o.bind([c, variable([0], [1])])).toThrowError(mismatch(/changed shape/));
    // same rank, another size: [2] → [3]; [1, 1] → [1, 2] (one dimension equal)
    expect(() => o.bind([variable([0, 0, 0], [3]), d])).toThrowError(mismatch(/changed shape/));
    expect(() => o.bind([c, variable([0, 0], [1, 2])])).toThrowError(mismatch(/changed shape/));
    expect(arraysOf(o.state())).toEqual(arraysOf(before));
    // the next step on [c, d] continues a's and b's state (t = 3), it does not start c and d afresh
    const dirs = [tf.tensor([1, 1], [2]), tf.tensor([[1]], [1, 1])];
    o.bind([c, d]);
    o.apply([c, d], dirs, 0.1);
    tf.dispose(dirs);
    expect(o.state().json.entries).toEqual([
      { t: 3, shape: [2] },
      { t: 3, shape: [1, 1] },
    ]);
  });

  it('saves no variable names (state binds by index), only each entry’s t and shape', () => {
    const o = optimizer();
    const vars = [variable([1, 2], [2]), variable([3], [1, 1])];
    twoSteps(o, vars);
    const entries = o.state().json.entries as Record<string, unknown>[];
    expect(entries).toEqual([
      { t: 2, shape: [2] },
      { t: 2, shape: [1, 1] },
    ]);
  });

  it('a state loaded before binding is returned verbatim (a copy), then bound to the first variables', () => {
    const src = optimizer();
    const [a, b] = [variable([1, 2], [2]), variable([3], [1, 1])];
    twoSteps(src, [a, b]);
    const saved = src.state();

    for (const how of ['bind', 'reset'] as const) {
      const o = optimizer();
      const given = structuredClone(saved);
      o.load(given);
      given.arrays['0/m']!.data[0] = 99; // loading copies: changing the argument afterwards changes nothing
      const held = o.state();
      expect(held).toEqual(saved);
      held.arrays['0/m']!.data[0] = 99; // a copy: changing it changes nothing
      expect(arraysOf(o.state())).toEqual(arraysOf(saved));

      const [c, d] = [variable(Array.from(a.dataSync()), [2]), variable(Array.from(b.dataSync()), [1, 1])];
      if (how === 'bind') o.bind([c, d]);
      else o.reset([c, d]);
      expect(arraysOf(o.state()), how).toEqual(arraysOf(saved));
      expect(o.state().json.entries, how).toEqual(saved.json.entries);
      // the moments carried over: one more step moves c, d exactly as it moves a, b
      const dirs = () => [tf.tensor([1, 1], [2]), tf.tensor([[1]], [1, 1])];
      const d1 = dirs();
      const d2 = dirs();
      const [a2, b2] = [variable(Array.from(a.dataSync()), [2]), variable(Array.from(b.dataSync()), [1, 1])];
      const twin = optimizer();
      twin.load(saved);
      twin.bind([a2, b2]);
      twin.apply([a2, b2], d1, 0.1);
      o.apply([c, d], d2, 0.1);
      expect(Array.from(c.dataSync()), how).toEqual(Array.from(a2.dataSync()));
      expect(Array.from(d.dataSync()), how).toEqual(Array.from(b2.dataSync()));
      // bound now: the state is the live one (t = 3), no longer the loaded one
      expect(o.state().json.entries, how).toEqual([
        { t: 3, shape: [2] },
        { t: 3, shape: [1, 1] },
      ]);
      tf.dispose([...d1, ...d2]);
    }
  });

  it('a loaded state that does not fit the variables it binds to is refused at binding', () => {
    const src = optimizer();
    twoSteps(src, [variable([1, 2], [2]), variable([3], [1, 1])]);
    const o = optimizer();
    o.load(src.state());
    expect(() => o.bind([variable([1, 2, 3], [3]), variable([3], [1, 1])])).toThrowError(
      mismatch(
        /^the loaded optimizer state does not fit the variables: optimizer state entry 0 has shape \[2\]/,
      ),
    );
  });

  it("load errors become STATE_MISMATCH naming the cause; errors that are not moprune's pass unchanged", () => {
    const o = optimizer();
    const vars = [variable([1, 2], [2]), variable([3], [1, 1])];
    twoSteps(o, vars);
    const sgd: ComponentState = { json: { type: 'sgd', entries: [] }, arrays: {} };
    let caught: unknown;
    try {
      o.load(sgd);
    } catch (e) {
      caught = e;
    }
    expect(caught).toEqual(
      mismatch(
        /^cannot load the optimizer state: cannot load a "sgd" optimizer state into a 'adam' optimizer/,
      ),
    );
    expect((caught as Error).cause).toEqual(
      expect.objectContaining({ name: 'CoreError', code: 'INVALID_ARGUMENT' }),
    );

    const wrongShape = src2(o);
    expect(() => o.load(wrongShape)).toThrowError(mismatch(/^cannot load the optimizer state: .*shape/));

    const notMoprune = { json: null, arrays: {} } as unknown as ComponentState;
    expect(() => o.load(notMoprune)).toThrowError(TypeError);
  });

  it('reset after binding keeps the state of a previous variable of the same shape, restarts the others', () => {
    const o = optimizer();
    const [a, b] = [variable([1, 2], [2]), variable([3], [1, 1])];
    twoSteps(o, [a, b]);
    const [c, d] = [variable([0, 0, 0], [3]), variable([0], [1, 1])];
    o.reset([c, d], [a, b]);
    expect(o.state().json.entries).toEqual([
      { t: 0, shape: [3] },
      { t: 2, shape: [1, 1] },
    ]);
  });

  it('a state loaded while bound goes into the optimizer: the next step continues from it', () => {
    const src = optimizer();
    twoSteps(src, [variable([1, 2], [2]), variable([3], [1, 1])]);
    const o = optimizer();
    const vars = [variable([1, 2], [2]), variable([3], [1, 1])];
    o.bind(vars);
    o.load(src.state());
    const dirs = [tf.tensor([1, 1], [2]), tf.tensor([[1]], [1, 1])];
    o.bind(vars);
    o.apply(vars, dirs, 0.1);
    tf.dispose(dirs);
    expect(o.state().json.entries).toEqual([
      { t: 3, shape: [2] },
      { t: 3, shape: [1, 1] },
    ]);
  });

  it('apply: a null direction leaves its variable alone; the learning rate is the one passed', () => {
    const o = new BoundOptimizer({ type: 'sgd', lr: 0.5 });
    made.push(o);
    const [a, b] = [variable([1, 2], [2]), variable([3], [1, 1])];
    o.bind([a, b]);
    const g = tf.tensor([1, -2], [2]);
    o.apply([a, b], [g, null], 0.25);
    expect(Array.from(a.dataSync())).toEqual([0.75, 2.5]);
    expect(Array.from(b.dataSync())).toEqual([3]);
    g.dispose();
  });
});

/** `o`'s state with entry 0 claiming shape [3] (and arrays to match): loads fail on the shape check. */
function src2(o: BoundOptimizer): ComponentState {
  const s = o.state();
  const entries = (s.json.entries as { t: number; shape: number[] }[]).map((e, i) =>
    i === 0 ? { ...e, shape: [3] } : e,
  );
  const arrays = Object.fromEntries(
    Object.entries(s.arrays).map(([k, a]) => [
      k,
      k.startsWith('0/') ? { shape: [3], data: new Float32Array(3) } : a,
    ]),
  );
  return { json: { ...s.json, entries }, arrays };
}
