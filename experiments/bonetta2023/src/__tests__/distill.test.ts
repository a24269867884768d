import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import { type Batch, createNetwork, type NetworkSpec, saveNetworkSnapshot } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distillation, distillationLoss } from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'bonetta2023-distill-'));
beforeAll(async () => {
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A small MLP; the teachers have dropout, which inference mode leaves out (training mode would need an rng). */
const mlp = (units: number, classes = 3, dropout = 0): NetworkSpec => ({
  name: `mlp-${units}-${classes}-${dropout}`,
  inputShape: [4],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    ...(dropout === 0 ? [] : [{ id: 'drop1', op: 'dropout' as const, inputs: ['relu1'], rate: dropout }]),
    { id: 'fc2', op: 'dense', inputs: [dropout === 0 ? 'relu1' : 'drop1'], units: classes },
  ],
  outputs: ['fc2'],
});

const batchOf = (x: tf.Tensor): Batch => ({ x, y: [], size: x.shape[0]!, dispose: () => x.dispose() });

describe('distillation', () => {
  it('T²·KL by hand; zero at the teacher, positive elsewhere; its gradient is T·(q − p)/n', () => {
    // One row, T = 2: p = softmax([0, ln 3]/2)·… computed directly.
    const s = [0.5, -1, 2];
    const t = [1, 0, -0.5];
    const T = 2;
    const soft = (v: number[]) => {
      const e = v.map((x) => Math.exp(x / T));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    };
    const p = soft(t);
    const q = soft(s);
    const kl = p.reduce((acc, pi, i) => acc + pi * Math.log(pi / q[i]!), 0);
    const value = distillationLoss(tf.tensor2d([s]), tf.tensor2d([t]), T);
    expect(value.dataSync()[0]).toBeCloseTo(T * T * kl, 5);
    value.dispose();

    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.float({ min: Math.fround(0.5), max: 8, noNaN: true }),
        (sv, tv, temp) => {
          const before = tf.memory().numTensors;
          const student = tf.tensor2d(sv, [2, 4]);
          const teacher = tf.tensor2d(tv, [2, 4]);
          const read = (a: tf.Tensor, b: tf.Tensor) =>
            tf.tidy(() => distillationLoss(a, b, temp).dataSync()[0]!);
          expect(Math.abs(read(teacher, teacher))).toBeLessThan(1e-5);
          const v = read(student, teacher);
          expect(v).toBeGreaterThanOrEqual(-1e-5);
          const g = tf.grad((x: tf.Tensor) => distillationLoss(x, teacher, temp))(student);
          const want = tf.tidy(() =>
            tf.div(
              tf.mul(tf.sub(tf.softmax(tf.div(student, temp)), tf.softmax(tf.div(teacher, temp))), temp),
              2,
            ),
          );
          const got = g.dataSync();
          const exp = want.dataSync();
          for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(exp[i]!, 4);
          tf.dispose([student, teacher, g, want]);
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { seed: 22, numRuns: 40 },
    );
  });

  it('the objective reads a teacher snapshot in inference mode, trains no teacher weight, and frees it', () => {
    const teacherNet = createNetwork(mlp(6, 3, 0.5), { seed: 1 });
    const dir = join(root, 'teacher');
    saveNetworkSnapshot(dir, teacherNet, 0);
    const before = tf.memory().numTensors;
    const objective = distillation.create({ type: 'distillation', teacher: dir, temperature: 3 }, undefined);
    const student = createNetwork(mlp(2), { seed: 2 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 7);
    const batch = batchOf(x);
    const ctx = (outputs: tf.Tensor[]) => ({
      net: student,
      outputs,
      batch,
      gateProbabilities: {},
      training: true,
    });
    const out = student.apply(x);
    const value = objective.value(ctx(out));
    const want = tf.tidy(() => distillationLoss(out[0]!, teacherNet.apply(x)[0]!, 3));
    expect(value.dataSync()[0]).toBeCloseTo(want.dataSync()[0]!, 6);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    // At the teacher's own outputs the value is zero: the snapshot's network is the teacher.
    const teacherOut = teacherNet.apply(x);
    const self = objective.value(ctx(teacherOut));
    expect(Math.abs(self.dataSync()[0]!)).toBeLessThan(1e-6);
    // Gradients reach the student's variables and only those.
    const { value: graded, grads } = tf.variableGrads(
      () => objective.value(ctx(student.apply(x))),
      student.trainableVariables(),
    );
    expect(Object.keys(grads).length).toBe(student.trainableVariables().length);
    expect(
      tf.tidy(() => Object.values(grads).some((g) => tf.any(tf.notEqual(g, 0)).dataSync()[0] === 1)),
    ).toBe(true);
    tf.dispose([value, want, self, graded, ...out, ...teacherOut, ...Object.values(grads)]);
    objective.dispose!();
    student.dispose();
    batch.dispose();
    // The teacher the objective loaded is gone with it.
    expect(tf.memory().numTensors).toBe(before);
    teacherNet.dispose();
  });

  it('refuses a missing teacher and a teacher of another output shape, with typed errors', () => {
    expect(() =>
      distillation.create(
        { type: 'distillation', teacher: join(root, 'nothing'), temperature: 2 },
        undefined,
      ),
    ).toThrow(expect.objectContaining({ name: 'CoreError', code: 'CHECKPOINT_NOT_FOUND' }));
    const teacherNet = createNetwork(mlp(6, 5), { seed: 1 });
    const dir = join(root, 'teacher5');
    saveNetworkSnapshot(dir, teacherNet, 0);
    teacherNet.dispose();
    const objective = distillation.create({ type: 'distillation', teacher: dir }, undefined);
    const student = createNetwork(mlp(2), { seed: 2 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 7);
    const out = student.apply(x);
    expect(() =>
      objective.value({
        net: student,
        outputs: out,
        batch: batchOf(x),
        gateProbabilities: {},
        training: true,
      }),
    ).toThrow(expect.objectContaining({ name: 'CoreError', code: 'INVALID_CONFIG' }));
    tf.dispose([x, ...out]);
    objective.dispose!();
    student.dispose();
    expect(
      distillation.validate({ type: 'distillation', teacher: dir, temperature: 0 }).map((i) => i.path),
    ).toEqual(['temperature']);
  });
});
