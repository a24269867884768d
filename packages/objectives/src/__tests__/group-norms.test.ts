import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { context, fakeNetwork, read, readAll } from './fake-network.js';
import { createObjective, growl, planGroups } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * fc1: kernel [3, 2] with rows (input neurons) of norm 5, 0, 1; bias [2].
 * fc2: kernel [2, 1] = [[2], [0]] (its rows are fc1's units).
 */
function net() {
  return fakeNetwork({
    params: [
      { node: 'fc1', op: 'dense', role: 'kernel', shape: [3, 2], values: [3, 4, 0, 0, 1, 0] },
      { node: 'fc1', op: 'dense', role: 'bias', shape: [2], values: [1, 2] },
      { node: 'fc2', op: 'dense', role: 'kernel', shape: [2, 1], values: [2, 0] },
    ],
    groups: [
      {
        id: 'fc1:unit:0',
        kind: 'unit',
        node: 'fc1',
        index: 0,
        slices: [
          { param: 'fc1/kernel', axis: 1, indices: [0] },
          { param: 'fc1/bias', axis: 0, indices: [0] },
          { param: 'fc2/kernel', axis: 0, indices: [0] },
        ],
      },
      {
        id: 'fc1:unit:1',
        kind: 'unit',
        node: 'fc1',
        index: 1,
        slices: [
          { param: 'fc1/kernel', axis: 1, indices: [1] },
          { param: 'fc1/bias', axis: 0, indices: [1] },
          { param: 'fc2/kernel', axis: 0, indices: [1] },
        ],
      },
    ],
  });
}

/** The rows (input neurons) of fc1's kernel, as a group source. */
const ROWS = { from: 'axis', params: { names: ['fc1/kernel'] }, axis: 0 };

describe('group ℓ2,1 and GrOWL', () => {
  let n: ReturnType<typeof net>;
  let before: number;
  beforeEach(() => {
    n = net();
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(before);
    n.dispose();
  });

  it('ℓ2,1 over the rows of a dense kernel: 5 + 0 + 1', () => {
    const l21 = createObjective({ type: 'groupL21', groups: ROWS });
    expect(read(l21.value(context(n)))).toBeCloseTo(6, 6);
    // √size weighting: each row has 2 entries.
    const weighted = createObjective({
      type: 'groupL21',
      weighting: 'sqrtSize',
      groups: ROWS,
    });
    expect(read(weighted.value(context(n)))).toBeCloseTo(6 * Math.SQRT2, 5);
  });

  it('ℓ2,1 over structure groups counts every slice of a unit', () => {
    // unit 0: 3² + 0² + 1² (column) + 1² (bias) + 2² (fc2 row) = 15; unit 1: 4² + 2² = 20.
    const l21 = createObjective({ type: 'groupL21', groups: { from: 'structures', kinds: ['unit'] } });
    expect(read(l21.value(context(n)))).toBeCloseTo(Math.sqrt(15) + Math.sqrt(20), 5);
    // Counting only kernel slices: unit 0: 9 + 1 + 4 = 14; unit 1: 16.
    const kernels = createObjective({
      type: 'groupL21',
      groups: { from: 'structures', params: { roles: ['kernel'] } },
    });
    expect(read(kernels.value(context(n)))).toBeCloseTo(Math.sqrt(14) + 4, 5);
  });

  it('GrOWL spike θ = [1, 0.2, 0.2] on sorted norms [5, 1, 0] gives 5.2; linear θ = [0.3, 0.2, 0.1] gives 1.7', () => {
    const spike = createObjective({ type: 'growl', groups: ROWS });
    expect(read(spike.value(context(n)))).toBeCloseTo(5.2, 5);
    const linear = createObjective({
      type: 'growl',
      theta: { kind: 'linear', beta1: 0.1, beta2: 0.3 },
      coefficient: 2,
      groups: ROWS,
    });
    expect(read(linear.value(context(n)))).toBeCloseTo(2 * 1.7, 5);
  });

  it('GrOWL gradient is θ_rank(g)·w_g/‖w_g‖, and 0 (not NaN) for a zero group', () => {
    const plan = planGroups(n, { from: 'axis', params: { names: ['fc1/kernel'] }, axis: 0 }, 'test');
    const w = n.params.get('fc1/kernel')!;
    const theta = { kind: 'spike', beta1: 0.8, beta2: 0.2 } as const;
    const { grads, value } = tf.variableGrads(() => growl(n, plan, theta, 'perNode'), [w]);
    expect(read(value)).toBeCloseTo(5.2, 5);
    const g = readAll(Object.values(grads)[0]!);
    // Row 0 (norm 5, θ 1): [3, 4]/5; row 1 (zero): 0; row 2 (norm 1, θ 0.2): 0.2·[1, 0].
    const expected = [0.6, 0.8, 0, 0, 0.2, 0];
    for (const [i, v] of g.entries()) expect(v).toBeCloseTo(expected[i]!, 5);
  });

  it("scope 'perNode' sorts each layer separately; 'global' sorts all groups together", () => {
    // Groups: fc1 rows (5, 0, 1) and fc2 rows (2, 0).
    const groups = { from: 'axis', params: { roles: ['kernel'] }, axis: 0 };
    const perNode = createObjective({ type: 'growl', groups });
    // fc1: 5 + 0.2·1 + 0 = 5.2; fc2: 1·2 + 0.2·0 = 2.
    expect(read(perNode.value(context(n)))).toBeCloseTo(7.2, 5);
    const global = createObjective({ type: 'growl', scope: 'global', groups });
    // Sorted [5, 2, 1, 0, 0]: 5 + 0.2·(2 + 1) = 5.6.
    expect(read(global.value(context(n)))).toBeCloseTo(5.6, 5);
  });

  it('differentiable: false keeps the value and zeroes the gradient (the reference form)', () => {
    const detached = createObjective({
      type: 'growl',
      differentiable: false,
      groups: ROWS,
    });
    const w = n.params.get('fc1/kernel')!;
    const { grads, value } = tf.variableGrads(() => detached.value(context(n)), [w]);
    expect(read(value)).toBeCloseTo(5.2, 5);
    expect(readAll(Object.values(grads)[0]!)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('per-row groups cost no segment sum forward, and a detached GrOWL no backward pass through its norms', async () => {
    const kernelsOf = async (f: () => tf.Tensor | tf.Tensor[]) => {
      const info = await tf.profile(() => f());
      tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
      return new Set(info.kernels.map((k) => k.name));
    };
    const differentiable = createObjective({ type: 'growl', groups: ROWS });
    const forward = await kernelsOf(() => differentiable.value(context(n)));
    expect(forward.has('UnsortedSegmentSum')).toBe(false);
    const detached = createObjective({ type: 'growl', differentiable: false, groups: ROWS });
    const w = n.params.get('fc1/kernel')!;
    const backward = await kernelsOf(() => {
      const { value, grads } = tf.variableGrads(() => detached.value(context(n)), [w]);
      return [value, ...Object.values(grads)];
    });
    // The gradient of the norms' gathers is a segment sum (O(groups × entries) on the CPU): none may run.
    expect(backward.has('UnsortedSegmentSum')).toBe(false);
  });

  it('rejects an axis the parameter lacks and an empty group selection', () => {
    const badAxis = createObjective({
      type: 'growl',
      groups: { ...ROWS, axis: 2 },
    });
    expect(() => badAxis.value(context(n))).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const none = createObjective({ type: 'groupL21', groups: { from: 'structures', kinds: ['filter'] } });
    expect(() => none.value(context(n))).toThrowError(expect.objectContaining({ code: 'EMPTY_SELECTION' }));
  });
});
