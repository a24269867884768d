// Knowledge distillation from a dense teacher, for the retraining of a kept network (`--retrain-distill`,
// our extension: Hinton, Vinyals & Dean 2015's soft targets, not part of Bonetta & Cancelliere's protocol).
// A contributor's objective, defined through core's public `defineObjective` like any other component.
import { CoreError, defineObjective, type JsonObject, type Network, schema as s } from '@moprune/core';
import { loadNetworkSnapshot } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';

/** The objective's registered name: `{ "type": "distillation", "teacher": <dir>, "temperature": T }`. */
export const DISTILLATION = 'distillation';

/**
 * T²·KL(softmax(t/T) ‖ softmax(s/T)) averaged over the batch: the teacher's softened class probabilities
 * as targets for the student's (`s` the student's logits, `t` the teacher's). The T² keeps the gradient's
 * scale independent of T (Hinton et al. 2015). The teacher's own entropy term is included, so the value is
 * a true KL: 0 when the student's softened outputs equal the teacher's, positive otherwise.
 */
export function distillationLoss(student: tf.Tensor, teacher: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(tf.div(teacher, temperature));
    const logQ = tf.logSoftmax(tf.div(student, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

/**
 * The `distillation` objective: {@link distillationLoss} of the network's first output against the logits
 * of a teacher network loaded from a snapshot directory (a `best/` or `final/` of another run, any spec with
 * the same number of classes), run in inference mode (no dropout, BatchNorm's moving statistics) on the
 * step's own batch. The teacher's variables are never among the trained ones, so no gradient reaches them.
 * Throws `CHECKPOINT_NOT_FOUND` when the directory holds no snapshot.
 */
export const distillation = defineObjective({
  name: DISTILLATION,
  description: "knowledge distillation: T²·KL between a teacher network's softened outputs and the network's",
  configSchema: s.object({
    teacher: s.string(),
    temperature: s.number({ gt: 0 }).optional(),
    name: s.string().optional(),
  }),
  create: (c) => {
    const temperature = c.temperature ?? 1;
    const snap = loadNetworkSnapshot(c.teacher);
    if (snap === undefined) {
      throw new CoreError('CHECKPOINT_NOT_FOUND', `distillation: no network snapshot in ${c.teacher}`, {
        details: { file: c.teacher },
      });
    }
    const teacher: Network = snap.net;
    return {
      name: c.name ?? DISTILLATION,
      config: c as JsonObject,
      value(ctx) {
        const student = ctx.outputs[0];
        if (student === undefined) throw new Error('distillation: the network has no output');
        return tf.tidy(() => {
          const t = teacher.apply(ctx.batch.x, { training: false })[0]!;
          if (t.shape.join() !== student.shape.join()) {
            throw new CoreError(
              'INVALID_CONFIG',
              `distillation: the teacher in ${c.teacher} outputs [${t.shape}], the network [${student.shape}]`,
              { issues: [{ path: 'teacher', message: 'outputs another shape than the network' }] },
            );
          }
          return distillationLoss(student, t, temperature);
        });
      },
      dispose() {
        teacher.dispose();
      },
    };
  },
});
