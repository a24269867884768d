// The page's script: stock @tensorflow/tfjs only (no moprune code), as an app would ship it.
import * as tf from '@tensorflow/tfjs';

declare global {
  interface Window {
    predict: (
      inputs: number[],
      shape: number[],
    ) => Promise<{ backend: string; params: number; out: number[] }>;
  }
}

window.predict = async (inputs, shape) => {
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel('./export/model.json');
  const x = tf.tensor(inputs, shape);
  const y = model.predict(x) as tf.Tensor;
  const out = Array.from(await y.data());
  return { backend: tf.getBackend(), params: model.countParams(), out };
};
