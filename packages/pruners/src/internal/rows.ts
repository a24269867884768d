/**
 * Kernels as rows — the groups of row-structured pruning (GrOWL, ℓ2,1 on input neurons/channels).
 */

/**
 * A kernel as rows: the groups are the input neurons of a dense kernel
 * `[in, out]` (axis 0) and the input channels of a conv kernel
 * `[kh, kw, in, out]` (axis 2). `rows × cols` with every entry of a group in
 * one row.
 */
export interface RowLayout {
  readonly rows: number;
  readonly cols: number;
  /** Entries before the group axis (1 for dense), and after it. */
  readonly outer: number;
  readonly inner: number;
}

/** The row layout of a kernel of shape `shape` (rank 4: a conv kernel, grouped by input channel; else by input neuron). */
export function rowLayout(shape: readonly number[]): RowLayout {
  const axis = shape.length === 4 ? 2 : 0;
  const rows = shape[axis]!;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { rows, cols: outer * inner, outer, inner };
}

/** The kernel's values as `rows × cols` (row r: every entry of group r). */
export function toRows(values: ArrayLike<number>, l: RowLayout): Float32Array {
  if (l.outer === 1) return Float32Array.from(values);
  const out = new Float32Array(l.rows * l.cols);
  for (let o = 0; o < l.outer; o++)
    for (let r = 0; r < l.rows; r++)
      for (let i = 0; i < l.inner; i++)
        out[r * l.cols + o * l.inner + i] = values[(o * l.rows + r) * l.inner + i]!;
  return out;
}

/** The inverse of {@link toRows}. */
export function fromRows(rows: Float32Array, l: RowLayout): Float32Array {
  if (l.outer === 1) return rows;
  const out = new Float32Array(l.rows * l.cols);
  for (let o = 0; o < l.outer; o++)
    for (let r = 0; r < l.rows; r++)
      for (let i = 0; i < l.inner; i++)
        out[(o * l.rows + r) * l.inner + i] = rows[r * l.cols + o * l.inner + i]!;
  return out;
}
