import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createOptimizer, type Network } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, fakeNetwork, NO_BATCH, readAll } from './fake-network.js';
import { createObjective, type SelectiveWeightDecay, type SensitivityDecay } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const W0 = [0.5, -1, 2, 0.25];
/** The data gradient at W0: a stand-in for ∂L/∂w of a first backward pass. */
const G = [0.2, -0.5, 1.5, 0];

function net(): Network {
  return fakeNetwork({ params: [{ node: 'fc', op: 'dense', role: 'kernel', shape: [4], values: W0 }] });
}

/**
 * One step the way core's loop runs it: prepare (relevance from the data
 * gradient), the optimizer on ∂(L + R)/∂w with ∂L/∂w = G, then afterUpdate.
 */
function step(objective: SelectiveWeightDecay, optimizer: 'adam' | 'sgd'): number[] {
  const n = net();
  const w = n.params.get('fc/kernel')!;
  const g = tf.tensor1d(G);
  objective.prepare({ net: n, batch: NO_BATCH, dataGradients: () => new Map([['fc/kernel', g]]) });
  // A decoupled objective's value is a constant (logged, no gradient): the optimizer sees ∂L/∂w only.
  let r: tf.Tensor;
  if (objective.decoupled) {
    objective.value(context(n)).dispose();
    r = tf.zerosLike(w);
  } else {
    const { grads, value } = tf.variableGrads(() => objective.value(context(n)), [w]);
    value.dispose();
    r = grads[w.name]!;
  }
  const total = tf.add(r, g);
  const opt = createOptimizer(optimizer === 'adam' ? { type: 'adam', lr: 0.01 } : { type: 'sgd', lr: 0.1 });
  opt.applyGradients(new Map([[w, total]]));
  objective.afterUpdate({ net: n, learningRate: opt.learningRate });
  const out = readAll(w);
  opt.dispose();
  objective.dispose();
  tf.dispose([g, total, r]);
  return out;
}

/** Adam's first step from zero moments: w − lr·g/(|g| + ε) (bias corrections cancel). */
const adamStep = (w: number, grad: number) => w - (0.01 * grad) / (Math.abs(grad) + 1e-7);
const lobsterFactor = (grad: number) => Math.max(0, 1 - Math.abs(grad));

describe('decoupled decay (LOBSTER: after the optimizer step)', () => {
  it('w ← Adam(w, ∂L/∂w) − λ·ReLU(1 − |∂L/∂w|)·w_t, exactly', () => {
    const lambda = 0.1;
    const swd = createObjective({
      type: 'selectiveWeightDecay',
      factor: 'lobster',
      gamma: lambda,
      decoupled: true,
    }) as SelectiveWeightDecay;
    expect(swd.config).toMatchObject({ decoupled: true, factor: 'lobster' });
    const got = step(swd, 'adam');
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(adamStep(W0[i]!, G[i]!) - lambda * lobsterFactor(G[i]!) * W0[i]!, 6);
    });
  });

  it('through the loss the decay goes through Adam and the step differs', () => {
    const lambda = 0.1;
    const coupled = createObjective({ type: 'selectiveWeightDecay', factor: 'lobster', gamma: lambda });
    const got = step(coupled as SelectiveWeightDecay, 'adam');
    const decoupledExpectation = W0.map((w, i) => adamStep(w, G[i]!) - lambda * lobsterFactor(G[i]!) * w);
    expect(got.some((v, i) => Math.abs(v - decoupledExpectation[i]!) > 1e-3)).toBe(true);
  });

  it('with momentum-free SGD at rate η, coupled γ = λ/(2η) and decoupled λ give the same step', () => {
    const lambda = 0.1;
    const eta = 0.1;
    const coupled = step(
      createObjective({
        type: 'selectiveWeightDecay',
        factor: 'lobster',
        gamma: lambda / (2 * eta),
      }) as SelectiveWeightDecay,
      'sgd',
    );
    const decoupled = step(
      createObjective({
        type: 'selectiveWeightDecay',
        factor: 'lobster',
        gamma: lambda,
        decoupled: true,
      }) as SelectiveWeightDecay,
      'sgd',
    );
    coupled.forEach((v, i) => {
      expect(v).toBeCloseTo(decoupled[i]!, 6);
    });
  });

  it('sensitivity decay (Tartaglione 2018) takes the same option', () => {
    const s = createObjective({ type: 'sensitivityDecay', decoupled: true }) as SensitivityDecay;
    expect(s.decoupled).toBe(true);
    expect(s.config).toMatchObject({ decoupled: true });
    s.dispose?.();
  });
});
