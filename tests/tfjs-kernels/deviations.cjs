// The specs of tfjs-core's suite where tfjs itself is wrong and moprune deliberately differs.
// Each entry names the spec (exact full name without the backend and flags), the backends on
// which moprune differs, why, and `evidence(tf, backend)`: a check run against the backend under
// test before the specs, which must return a one-line finding (and throw when the claim fails).
// run.mjs fails when a spec fails that is not listed here, when an entry's spec did not fail
// (the list went stale), or when an entry's evidence does not hold.

/** Central differences of a scalar function of x's entries (exact for the linear ones here). */
function numericGradient(tf, f, x, h = 1e-2) {
  const base = x.dataSync();
  return Array.from(base, (_, i) => {
    const up = Float32Array.from(base);
    const down = Float32Array.from(base);
    up[i] += h;
    down[i] -= h;
    return tf.tidy(
      () => (f(tf.tensor(up, x.shape)).dataSync()[0] - f(tf.tensor(down, x.shape)).dataSync()[0]) / (2 * h),
    );
  });
}

const close = (a, b, tol = 1e-3) =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i])));
const fmt = (a) => `[${Array.from(a, (v) => +v.toFixed(3)).join(', ')}]`;

module.exports = [
  {
    spec: (b) => `avgPool ${b} {} gradient x=[3,3,1] f=[3,3] s=1 p=explicit`,
    backends: ['cpu', 'native', 'wasm'],
    why: "tfjs's AvgPool gradient divides every window by the full 3×3 = 9 taps, while its forward pass with explicit padding averages only the in-bounds taps; moprune's gradient (registered for every backend) is the derivative of the forward pass",
    evidence(tf) {
      const x = tf.tensor3d([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3, 1]);
      const dy = tf.tensor3d([0, 3, 0, 6, 0, 9, 0, 12], [4, 2, 1]);
      const padding = [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ];
      const forward = (t) => tf.sum(tf.mul(tf.avgPool(t, 3, 1, padding), dy));
      const numeric = numericGradient(tf, forward, x);
      const ours = tf
        .grad((t) => tf.avgPool(t, 3, 1, padding))(x, dy)
        .dataSync();
      const tfjsExpects = [0, 1, 1, 0, 2, 2, 0, 3, 3];
      if (!close(Array.from(ours), numeric))
        throw new Error(`moprune's gradient ${fmt(ours)} ≠ numeric ${fmt(numeric)}`);
      if (close(tfjsExpects, numeric))
        throw new Error("tfjs's expected values agree with the numeric gradient");
      tf.dispose([x, dy]);
      return `central differences of the forward pass give ${fmt(numeric)}; moprune ${fmt(ours)}; the spec expects ${fmt(tfjsExpects)}`;
    },
  },
  {
    spec: (b) => `conv2dTranspose ${b} {} input=8x8x8,output=4x4x8,f=8,s=1,inDepth=8,p=same vec4`,
    backends: ['native'],
    why: "the spec transposes a stride-1 'same' convolution of a 4×4 image but feeds an 8×8 one (such a convolution outputs 4×4): tfjs's cpu kernel silently reads only the top-left 4×4 of its input, moprune's native kernel refuses the shapes with a typed NativeError BAD_SHAPE",
    async evidence(tf, backend) {
      const x = tf.tensor4d(
        Array.from({ length: 512 }, (_, i) => i % 5),
        [1, 8, 8, 8],
      );
      const w = tf.tensor4d(
        Array.from({ length: 4096 }, (_, i) => i % 5),
        [8, 8, 8, 8],
      );
      const corner = tf.slice(x, [0, 0, 0, 0], [1, 4, 4, 8]);
      await tf.setBackend('cpu');
      const cpuX = tf.tensor4d(x.dataSync(), x.shape);
      const cpuW = tf.tensor4d(w.dataSync(), w.shape);
      const cpuCorner = tf.tensor4d(corner.dataSync(), corner.shape);
      const whole = tf.conv2dTranspose(cpuX, cpuW, [1, 4, 4, 8], 1, 'same').dataSync();
      const part = tf.conv2dTranspose(cpuCorner, cpuW, [1, 4, 4, 8], 1, 'same').dataSync();
      const forwardShape = tf.conv2d(tf.zeros([1, 4, 4, 8]), cpuW, 1, 'same').shape;
      tf.dispose([cpuX, cpuW, cpuCorner]);
      await tf.setBackend(backend);
      if (!close(Array.from(whole), Array.from(part), 0))
        throw new Error("tfjs's cpu result depends on more than the 4×4 corner");
      let code;
      try {
        tf.conv2dTranspose(x, w, [1, 4, 4, 8], 1, 'same');
      } catch (e) {
        code = `${e.name} ${e.code}`;
      }
      tf.dispose([x, w, corner]);
      if (code !== 'NativeError BAD_SHAPE')
        throw new Error(`expected NativeError BAD_SHAPE on ${backend}, got ${code}`);
      return `the forward convolution of a 4×4 input has shape [${forwardShape}]; tfjs's cpu result for the 8×8 input equals its result for the top-left 4×4 corner alone; ${backend} throws ${code}`;
    },
  },
];
