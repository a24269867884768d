import type { Rng } from '../rng.js';
import type { InitializerName } from '../spec.js';

/** Fan-in and fan-out of a dense `[in, out]` or conv `[kh, kw, in, out]` kernel. */
export function fans(kernelShape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = kernelShape.slice(0, -2).reduce((a, b) => a * b, 1);
  return {
    fanIn: receptive * kernelShape[kernelShape.length - 2]!,
    fanOut: receptive * kernelShape[kernelShape.length - 1]!,
  };
}

/** Values of a kernel drawn with the named initializer. */
export function initKernel(name: InitializerName, shape: readonly number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const { fanIn, fanOut } = fans(shape);
  switch (name) {
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return rng.fill(n, (r) => r.uniform(-limit, limit));
    }
    case 'heNormal': {
      // Spec's contract: N(0, 2/fanIn) with draws beyond 2σ redrawn. (Keras
      // additionally rescales σ by 1/0.8796 to undo the truncation; we do not.)
      const sigma = Math.sqrt(2 / fanIn);
      return rng.fill(n, (r) => {
        for (;;) {
          const z = r.normal();
          if (Math.abs(z) <= 2) return z * sigma;
        }
      });
    }
    case 'torchDefault': {
      const limit = 1 / Math.sqrt(fanIn);
      return rng.fill(n, (r) => r.uniform(-limit, limit));
    }
    case 'zeros':
      return new Float32Array(n);
  }
}

/**
 * Values of a bias. Keras initializes biases to zero (glorotUniform, heNormal);
 * PyTorch draws them from U(±1/sqrt(fanIn)) of the layer's kernel.
 */
export function initBias(name: InitializerName, kernelShape: readonly number[], rng: Rng): Float32Array {
  const n = kernelShape[kernelShape.length - 1]!;
  if (name !== 'torchDefault') return new Float32Array(n);
  const limit = 1 / Math.sqrt(fans(kernelShape).fanIn);
  return rng.fill(n, (r) => r.uniform(-limit, limit));
}
