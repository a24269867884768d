/**
 * Image resizing in plain TypeScript for the dataset builders.
 *
 * The filter is **bilinear with antialiasing** (the triangle filter of
 * Pillow's `BILINEAR` and torchvision's `antialias=True`): output pixel `o`
 * has its centre at input coordinate `c = (o + 0.5)·s − 0.5` with
 * `s = inSize / outSize`; input pixel `i` gets weight `max(0, 1 − |i − c| / r)`
 * with radius `r = max(1, s)`, and the weights of each output pixel are
 * normalized to sum to 1. When shrinking (`s > 1`) the triangle is widened by
 * `s`, so every input pixel contributes (no aliasing, unlike nearest or plain
 * bilinear sampling); when enlarging it is ordinary bilinear interpolation.
 * The filter is applied separably (rows, then columns) in float64 and rounded
 * to the nearest byte once at the end (Pillow rounds between the passes too,
 * which can differ by 1 in a few pixels).
 */

/** Sparse filter weights of one axis: output pixel o reads `count[o]` inputs from `first[o]`. */
export interface AxisWeights {
  readonly first: Int32Array;
  readonly count: Int32Array;
  /** `weights[o * taps + k]` is the weight of input `first[o] + k`. */
  readonly weights: Float64Array;
  readonly taps: number;
}

/** The antialiased-bilinear weights that map `inSize` samples to `outSize`. */
export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const radius = Math.max(1, scale);
  const taps = Math.ceil(radius) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(centre - radius) + 1);
    const hi = Math.min(inSize - 1, Math.ceil(centre + radius) - 1);
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const w = Math.max(0, 1 - Math.abs(i - centre) / radius);
      weights[o * taps + i - lo] = w;
      sum += w;
    }
    for (let k = 0; k <= hi - lo; k++) weights[o * taps + k]! /= sum;
    first[o] = lo;
    count[o] = hi - lo + 1;
  }
  return { first, count, weights, taps };
}

/**
 * Resizes one single-channel image (`inH × inW` bytes, row-major) to
 * `outH × outW` with the antialiased bilinear filter described above.
 * Pass precomputed weights when resizing many images of the same size.
 */
export function resizeGray(
  src: Uint8Array,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  out: Uint8Array = new Uint8Array(outH * outW),
  weights: { rows: AxisWeights; cols: AxisWeights } = {
    rows: axisWeights(inH, outH),
    cols: axisWeights(inW, outW),
  },
): Uint8Array {
  const { rows, cols } = weights;
  const tmp = new Float64Array(inH * outW);
  for (let y = 0; y < inH; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const f = cols.first[ox]!;
      let acc = 0;
      for (let k = 0; k < cols.count[ox]!; k++)
        acc += cols.weights[ox * cols.taps + k]! * src[y * inW + f + k]!;
      tmp[y * outW + ox] = acc;
    }
  }
  for (let oy = 0; oy < outH; oy++) {
    const f = rows.first[oy]!;
    for (let ox = 0; ox < outW; ox++) {
      let acc = 0;
      for (let k = 0; k < rows.count[oy]!; k++)
        acc += rows.weights[oy * rows.taps + k]! * tmp[(f + k) * outW + ox]!;
      out[oy * outW + ox] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}
