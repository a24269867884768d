// Tests from the survivors of `pnpm test:mutation objectives` (issue 17): defaults a config leaves
// out, messages a user reads, and code paths no other test reached. Each test here failed on at
// least one surviving mutant (the next mutation run is the proof; MUTANTS.md lists what stays).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { defineObjective, schema as s } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, fakeBatch, fakeNetwork, NO_BATCH, read, readAll } from './fake-network.js';
import {
  createObjective,
  crossEntropy,
  effectiveParam,
  groupNorms,
  growlProxScales,
  objectiveTypes,
  planGroups,
  SelectiveWeightDecay,
  validateObjectiveConfig,
} from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** fc: kernel [3, 2] (columns [3, 0, 1] and [4, 0, 0]), bias [1, 2]; a non-trainable statistic beside them. */
function net(groups = true) {
  return fakeNetwork({
    params: [
      { node: 'fc', op: 'dense', role: 'kernel', shape: [3, 2], values: [3, 4, 0, 0, 1, 0] },
      { node: 'fc', op: 'dense', role: 'bias', shape: [2], values: [1, 2] },
      { node: 'bn', op: 'batchNorm', role: 'movingMean', shape: [2], values: [100, 100], trainable: false },
    ],
    groups: groups
      ? [
          // Listed in reverse column order: group 0 is column 1, group 1 is column 0 (+ bias 0 + the statistic).
          {
            id: 'u1',
            kind: 'unit',
            node: 'fc',
            index: 1,
            slices: [{ param: 'fc/kernel', axis: 1, indices: [1] }],
          },
          {
            id: 'u0',
            kind: 'unit',
            node: 'fc',
            index: 0,
            slices: [
              { param: 'fc/kernel', axis: 1, indices: [0] },
              { param: 'fc/bias', axis: 0, indices: [0] },
              { param: 'bn/movingMean', axis: 0, indices: [0] },
            ],
          },
          // Only a statistic: no trainable entry, so no group.
          {
            id: 'stat',
            kind: 'unit',
            node: 'bn',
            index: 1,
            slices: [{ param: 'bn/movingMean', axis: 0, indices: [1] }],
          },
        ]
      : [],
  });
}

describe('group plans and norms', () => {
  it('keeps the groups in their order when their indices are not (the gather path), without statistics', () => {
    const n = net();
    const plan = planGroups(n, { from: 'structures' }, 'test');
    expect(plan.ids).toEqual(['u1', 'u0']);
    // u1: ‖[4, 0, 0]‖ = 4; u0: ‖[3, 0, 1, 1]‖ = √11 — the statistic's 100 is not a weight.
    const norms = readAll(groupNorms(n, plan));
    expect(norms[0]).toBeCloseTo(4, 5);
    expect(norms[1]).toBeCloseTo(Math.sqrt(11), 5);
    // √size weighting counts 3 and 4 entries.
    const weighted = createObjective({
      type: 'groupL21',
      weighting: 'sqrtSize',
      groups: { from: 'structures' },
    });
    expect(read(weighted.value(context(n)))).toBeCloseTo(Math.sqrt(3) * 4 + 2 * Math.sqrt(11), 4);
    n.dispose();
  });

  it("GrOWL's per-node partitions gather a node's groups when other nodes' groups sit between them", () => {
    // Groups A0 (norm 5), B0 (norm 1), A1 (norm 3): node A's members are 0 and 2.
    const row = (node: string, index: number) => ({
      id: `${node}${index}`,
      kind: 'unit' as const,
      node,
      index,
      slices: [{ param: `${node}/kernel`, axis: 0, indices: [index] }],
    });
    const n = fakeNetwork({
      params: [
        { node: 'A', op: 'dense', role: 'kernel', shape: [2, 1], values: [5, 3] },
        { node: 'B', op: 'dense', role: 'kernel', shape: [1, 1], values: [1] },
      ],
      groups: [row('A', 0), row('B', 0), row('A', 1)],
    });
    // Spike θ (0.8, 0.2): A sorted [5, 3] → 1·5 + 0.2·3 = 5.6; B [1] → 1.
    const o = createObjective({ type: 'growl', groups: { from: 'structures' } });
    expect(read(o.value(context(n)))).toBeCloseTo(6.6, 5);
    n.dispose();
  });

  it('a group of two indices of one axis is not mistaken for one index per group', () => {
    const n = fakeNetwork({
      params: [{ node: 'fc', op: 'dense', role: 'kernel', shape: [2, 2], values: [3, 0, 4, 0] }],
      groups: [
        {
          id: 'both-rows',
          kind: 'unit',
          node: 'fc',
          index: 0,
          slices: [{ param: 'fc/kernel', axis: 0, indices: [0, 1] }],
        },
      ],
    });
    expect(readAll(groupNorms(n, planGroups(n, { from: 'structures' }, 'test')))).toEqual([5]);
    n.dispose();
  });

  it('filters structure groups by node, names axis groups by parameter:axis:index, and says what is wrong', () => {
    const n = net();
    expect(planGroups(n, { from: 'structures', nodes: ['fc'] }, 'test').ids).toEqual(['u1', 'u0']);
    expect(() => planGroups(n, { from: 'structures', nodes: ['elsewhere'] }, 'test')).toThrowError(
      expect.objectContaining({
        code: 'EMPTY_SELECTION',
        message: 'test: the group selection {"from":"structures","nodes":["elsewhere"]} is empty',
      }),
    );
    const rows = { from: 'axis', params: { names: ['fc/kernel'] }, axis: 0 } as const;
    expect(planGroups(n, rows, 'test').ids).toEqual(['fc/kernel:0:0', 'fc/kernel:0:1', 'fc/kernel:0:2']);
    expect(() => planGroups(n, { ...rows, axis: 2 }, 'test')).toThrowError(
      expect.objectContaining({
        code: 'SHAPE_MISMATCH',
        message: "test: axis 2 does not exist on 'fc/kernel' of shape [3,2]",
      }),
    );
    n.dispose();
  });

  it('group ℓ2,1 and GrOWL are differentiable unless told otherwise, and default their names', () => {
    const n = net();
    for (const type of ['groupL21', 'growl']) {
      const o = createObjective({ type, groups: { from: 'structures' } });
      expect(o.name).toBe(type);
      const w = n.params.get('fc/kernel')!;
      const { value, grads } = tf.variableGrads(() => o.value(context(n)), [w]);
      value.dispose();
      expect(
        readAll(Object.values(grads)[0]!).some((g) => g !== 0),
        type,
      ).toBe(true);
    }
    n.dispose();
  });
});

describe('ℓ1/ℓ2 defaults and selector messages', () => {
  it('select trainable parameters only by default, and default their names', () => {
    const n = net(false);
    const l1 = createObjective({ type: 'l1' });
    const l2 = createObjective({ type: 'l2' });
    expect([l1.name, l2.name]).toEqual(['l1', 'l2']);
    expect(read(l1.value(context(n)))).toBeCloseTo(3 + 4 + 1 + 1 + 2, 6);
    expect(read(l2.value(context(n)))).toBeCloseTo(9 + 16 + 1 + 1 + 4, 6);
    n.dispose();
  });

  it('select by node through the config (ℓ1 and structure groups alike)', () => {
    const n = net();
    expect(read(createObjective({ type: 'l1', params: { nodes: ['fc'] } }).value(context(n)))).toBeCloseTo(
      11,
      6,
    );
    for (const config of [
      { type: 'l1', params: { nodes: ['elsewhere'] } },
      { type: 'groupL21', groups: { from: 'structures', nodes: ['elsewhere'] } },
    ]) {
      expect(() => createObjective(config).value(context(n)), config.type).toThrowError(
        expect.objectContaining({ code: 'EMPTY_SELECTION' }),
      );
    }
    expect(() => effectiveParam(n, 'nope')).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_PARAMETER', message: "the network has no parameter 'nope'" }),
    );
    n.dispose();
  });

  it('name every missing parameter and an empty selection, with the details a tool reads', () => {
    const n = net(false);
    const missing = createObjective({ type: 'l1', params: { names: ['fc/kernel', 'nope', 'gone'] } });
    expect(() => missing.value(context(n))).toThrowError(
      expect.objectContaining({
        code: 'UNKNOWN_PARAMETER',
        message: "l1: the network has no parameter 'nope', 'gone'",
        details: { missing: ['nope', 'gone'] },
      }),
    );
    const none = createObjective({ type: 'l2', params: { ops: ['conv2d'] } });
    expect(() => none.value(context(n))).toThrowError(
      expect.objectContaining({
        code: 'EMPTY_SELECTION',
        message: 'l2: selector {"ops":["conv2d"],"trainableOnly":true} matches no parameter',
        details: { selector: { ops: ['conv2d'], trainableOnly: true } },
      }),
    );
    n.dispose();
  });
});

describe('cross-entropy messages and defaults', () => {
  it('says which shapes and labels do not fit', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const cases: [tf.Tensor, tf.Tensor, string, string][] = [
      [
        tf.tensor1d([1, 2, 3]),
        tf.tensor1d([0]),
        'SHAPE_MISMATCH',
        'cross-entropy needs outputs [batch, classes], got [3]',
      ],
      [
        logits,
        tf.tensor1d([0, 1, 2]),
        'SHAPE_MISMATCH',
        'labels [3] do not fit outputs [2,3]: expected [2] (sparse) or [2, 3] (one-hot)',
      ],
      [
        logits,
        tf.tensor1d([0, 1.5]),
        'INVALID_LABELS',
        'label 1 is 1.5; sparse labels must be integers in [0, 3)',
      ],
    ];
    for (const [output, labels, code, message] of cases) {
      expect(() => crossEntropy(output, labels)).toThrowError(expect.objectContaining({ code, message }));
    }
    for (const [o, l] of cases) tf.dispose([o, l]);
  });

  it('takes soft targets (no integer check on dense labels) and renormalizes probability rows of any batch size', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const soft = tf.tensor2d([
      [0.5, 0, 0.5],
      [0, 1, 0],
    ]);
    // Row 1: 0.5·(3.4076 − 1) + 0.5·0.4076; row 2: ln 3.
    expect(read(crossEntropy(logits, soft))).toBeCloseTo(
      (0.5 * 2.4076059644 + 0.5 * 0.4076059644 + 1.0986122887) / 2,
      5,
    );
    // Rows summing to 8 and 4: renormalized to [0.25, 0.25, 0.5] each.
    const unnormalized = tf.tensor2d([
      [2, 2, 4],
      [1, 1, 2],
    ]);
    const labels = tf.tensor1d([2, 0], 'int32');
    expect(read(crossEntropy(unnormalized, labels, { from: 'probabilities' }))).toBeCloseTo(
      (-Math.log(0.5) - Math.log(0.25)) / 2,
      5,
    );
    tf.dispose([logits, soft, unnormalized, labels]);
  });

  it('check labels by default through the config too, name the missing output and label, default their names', () => {
    const logits = tf.tensor2d([[1, 2, 3]]);
    const bad = tf.tensor1d([3], 'int32');
    const n = net(false);
    const ce = createObjective({ type: 'crossEntropy' });
    const nll = createObjective({ type: 'nll', task: 1 });
    expect([ce.name, nll.name]).toEqual(['crossEntropy', 'nll[1]']);
    const batch = fakeBatch([bad]);
    expect(() => ce.value(context(n, { outputs: [logits], batch }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABELS' }),
    );
    expect(() => nll.value(context(n, { outputs: [logits, logits], batch }))).toThrowError(
      expect.objectContaining({
        code: 'SHAPE_MISMATCH',
        message: 'nll[1]: label 1 requested, the batch has 1',
      }),
    );
    expect(() => nll.value(context(n, { outputs: [logits], batch }))).toThrowError(
      expect.objectContaining({
        code: 'SHAPE_MISMATCH',
        message: 'nll[1]: output 1 requested, the network has 1',
      }),
    );
    const nllBad = createObjective({ type: 'nll', task: 0 });
    expect(() => nllBad.value(context(n, { outputs: [logits], batch }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABELS' }),
    );
    batch.dispose();
    logits.dispose();
    n.dispose();
  });
});

describe('factor decays: messages, compaction, defaults', () => {
  const grads = () =>
    new Map<string, tf.Tensor>([
      ['fc/kernel', tf.zeros([3, 2])],
      ['fc/bias', tf.zeros([2])],
    ]);

  it('name what is wrong, and default their names', () => {
    expect(() => new SelectiveWeightDecay({ alpha: 0 })).toThrowError(
      expect.objectContaining({ message: 'alpha must be a finite number > 0, got 0' }),
    );
    const swd = new SelectiveWeightDecay();
    expect(swd.name).toBe('selectiveWeightDecay');
    expect(createObjective({ type: 'selectiveWeightDecay' }).name).toBe('selectiveWeightDecay');
    expect(() => {
      swd.gamma = -1;
    }).toThrowError(expect.objectContaining({ message: 'gamma must be a finite number ≥ 0, got -1' }));
    const n = net(false);
    const g = grads();
    g.get('fc/bias')!.dispose();
    g.delete('fc/bias');
    expect(() => swd.prepare({ net: n, batch: NO_BATCH, dataGradients: () => g })).toThrowError(
      expect.objectContaining({ message: "selectiveWeightDecay: no data gradient for 'fc/bias'" }),
    );
    const wrong = tf.zeros([2]);
    g.get('fc/kernel')!.dispose();
    g.set('fc/kernel', wrong);
    expect(() => swd.prepare({ net: n, batch: NO_BATCH, dataGradients: () => g })).toThrowError(
      expect.objectContaining({
        message: "selectiveWeightDecay: gradient of 'fc/kernel' has shape [2], the parameter [3,2]",
      }),
    );
    tf.dispose([...g.values()]);
    n.dispose();
  });

  it('after a compaction: value asks for a new prepare, a decoupled update leaves the resized weight alone', () => {
    for (const decoupled of [false, true]) {
      const n = net(false);
      const g = grads();
      const swd = new SelectiveWeightDecay({ gamma: 0.5, decoupled });
      swd.prepare({ net: n, batch: NO_BATCH, dataGradients: () => g });
      // The kernel loses a column (same rank, another size), as compaction does.
      n.params.get('fc/kernel')!.dispose();
      const smaller = tf.variable(tf.tensor2d([[3], [0], [1]]));
      (n.params as Map<string, tf.Variable>).set('fc/kernel', smaller);
      expect(() => swd.value(context(n)), String(decoupled)).toThrowError(
        expect.objectContaining({
          code: 'NOT_PREPARED',
          message:
            "selectiveWeightDecay: 'fc/kernel' changed shape since prepare() (compaction?); call prepare again",
        }),
      );
      swd.afterUpdate({ net: n } as never);
      expect(readAll(smaller)).toEqual([3, 0, 1]);
      // Another rank whose leading sizes agree ([3, 2] → [3]) is a change of shape too.
      n.params.get('fc/kernel')!.dispose();
      (n.params as Map<string, tf.Variable>).set('fc/kernel', tf.variable(tf.tensor1d([3, 0, 1])));
      expect(() => swd.value(context(n)), String(decoupled)).toThrowError(
        expect.objectContaining({ code: 'NOT_PREPARED' }),
      );
      swd.dispose();
      tf.dispose([...g.values()]);
      n.dispose();
    }
  });
});

describe('GrOWL prox scales', () => {
  it('refuse a negative or NaN group norm, naming it', () => {
    expect(() => growlProxScales([-1, 2], [1, 0.5])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'group norm 0 is -1' }),
    );
    expect(() => growlProxScales([1, Number.NaN], [1, 0.5])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'group norm 1 is NaN' }),
    );
  });
});

describe('the catalog', () => {
  const global = defineObjective({
    // Sorts before every type of ours: the listing must sort, not append.
    name: 'aaa-test-catalog-global',
    description: 'a contributor type in the process-wide registry',
    configSchema: s.object({ scale: s.number({ min: 0 }) }),
    create: (config) => ({ name: 'global', config, value: () => tf.scalar(1) }),
  });

  it('lists the known types when the type is missing or unknown (ours and the registry’s, sorted)', () => {
    const ours = objectiveTypes().join(', ');
    expect(validateObjectiveConfig({})).toEqual([
      { path: 'type', message: `missing objective 'type'; one of: ${ours}` },
    ]);
    expect(validateObjectiveConfig({ coefficient: 1 }, 'terms[0].objective')).toEqual([
      { path: 'terms[0].objective.type', message: `missing objective 'type'; one of: ${ours}` },
    ]);
    const [issue] = validateObjectiveConfig({ type: 'zzz' });
    expect(issue!.path).toBe('type');
    const known = issue!.message.replace("unknown objective 'zzz'; one of: ", '').split(', ');
    expect(known[0]).toBe(global.name);
    expect(known).toContain('l1');
    expect(known).toEqual([...known].sort());
    expect(() => createObjective({ type: 'zzz' })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: `invalid objective config:\n  - type: unknown objective "zzz"; one of: ${ours}`,
      }),
    );
    expect(() => createObjective({ type: 'l1', coefficient: -1 })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/^invalid 'l1' objective config:/),
      }),
    );
  });

  it('validates a registry type by its own schema', () => {
    expect(validateObjectiveConfig({ type: global.name, scale: 1 })).toEqual([]);
    expect(validateObjectiveConfig({ type: global.name, scale: -1 }).map((i) => i.path)).toEqual(['scale']);
  });

  it('a sum defaults its name and frees the terms it built when a later one fails', () => {
    let live = 0;
    const counted = defineObjective({
      name: 'test-catalog-counted',
      description: 'counts live instances',
      configSchema: s.object({}),
      create: (config) => {
        live++;
        return { name: 'counted', config, value: () => tf.scalar(1), dispose: () => void live-- };
      },
    });
    const failing = defineObjective({
      name: 'test-catalog-failing',
      description: 'fails to build',
      configSchema: s.object({}),
      create: () => {
        throw new Error('cannot build');
      },
    });
    const sum = createObjective({ type: 'sum', terms: [{ objective: { type: counted.name } }] });
    expect(sum.name).toBe('sum');
    sum.dispose?.();
    expect(live).toBe(0);
    expect(() =>
      createObjective({
        type: 'sum',
        terms: [{ objective: { type: counted.name } }, { objective: { type: failing.name } }],
      }),
    ).toThrow('cannot build');
    expect(live).toBe(0);
  });
});
