import { SolverError } from './errors.js';

/** Options of {@link minNormWeights} and {@link frankWolfeMinNorm}. */
export interface MinNormOptions {
  /** Iteration cap of Frank–Wolfe (m > 2). @default 250 */
  readonly maxIterations?: number;
  /**
   * Stop when the Frank–Wolfe and away-step duality gaps are both at most
   * `tolerance · max_i ‖g_i‖²` (relative, so the scale of the gradients does not matter).
   * @default 1e-10
   */
  readonly tolerance?: number;
}

/** The min-norm convex combination of m gradients. */
export interface MinNormResult {
  /** Weights c on the simplex (c_i ≥ 0, Σc_i = 1). */
  readonly weights: number[];
  /** ‖d‖² = cᵀGc of the combined direction d = Σ c_i g_i. */
  readonly normSquared: number;
  /** Frank–Wolfe iterations used (0 for the closed forms, m ≤ 2). */
  readonly iterations: number;
  /** Final duality gap max(FW gap, away gap) (0 for the closed forms). */
  readonly gap: number;
  /** False when Frank–Wolfe stopped at the iteration cap before reaching the tolerance. */
  readonly converged: boolean;
}

/** A symmetric Gram matrix G_ij = g_i · g_j of m gradients. */
export type GramMatrix = readonly (readonly number[])[];

function checkGram(gram: GramMatrix): number {
  const m = gram.length;
  if (m === 0) throw new SolverError('EMPTY_OBJECTIVES', 'the min-norm problem needs at least one gradient');
  gram.forEach((row, i) => {
    if (row.length !== m) {
      throw new SolverError(
        'INVALID_ARGUMENT',
        `Gram matrix row ${i} has ${row.length} entries, expected ${m}`,
      );
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        const which =
          i === j ? `the gradient of objective ${i}` : `the gradients of objectives ${i} and ${j}`;
        throw new SolverError('NON_FINITE_GRADIENT', `${which} hold NaN or Infinity (G[${i}][${j}] = ${v})`, {
          details: { objective: i, other: j },
        });
      }
    });
  });
  return m;
}

/**
 * The closed-form min-norm weights of two gradients from their Gram entries
 * (Reiners et al. 2020): c1 = (g2 − g1)·g2 / ‖g2 − g1‖², clipped to [0, 1],
 * c2 = 1 − c1. When g1 = g2 (‖g2 − g1‖² at rounding level, ≤ 1e-12·(‖g1‖² + ‖g2‖²),
 * which Gram entries summed in float32 cannot resolve) every c gives the same
 * direction and c1 = 1 is returned, as in the paper.
 */
export function minNormTwo(g11: number, g12: number, g22: number): [number, number] {
  const denom = g11 - 2 * g12 + g22;
  if (!(denom > 1e-12 * (g11 + g22))) return [1, 0];
  const c1 = Math.min(1, Math.max(0, (g22 - g12) / denom));
  return [c1, 1 - c1];
}

function quad(gram: GramMatrix, w: readonly number[]): { gw: number[]; q: number } {
  const m = w.length;
  const gw = new Array<number>(m).fill(0);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += gram[i]![j]! * w[j]!;
    gw[i] = s;
  }
  let q = 0;
  for (let i = 0; i < m; i++) q += w[i]! * gw[i]!;
  return { gw, q };
}

/**
 * Min-norm point of the convex hull of m gradients by Frank–Wolfe with away
 * steps and exact line search on the quadratic cᵀGc (away steps give linear
 * convergence on the simplex and drop vertices exactly, so the support of the
 * result is clean). Starts at the vertex with the smallest ‖g_i‖². Stops when
 * the duality gaps fall under the relative tolerance or at `maxIterations`
 * (then `converged` is false and the best iterate so far is returned).
 */
export function frankWolfeMinNorm(gram: GramMatrix, options: MinNormOptions = {}): MinNormResult {
  const m = checkGram(gram);
  const maxIterations = options.maxIterations ?? 250;
  const tolerance = options.tolerance ?? 1e-10;
  if (!Number.isInteger(maxIterations) || maxIterations < 0) {
    throw new SolverError('INVALID_ARGUMENT', `maxIterations must be an integer ≥ 0, got ${maxIterations}`);
  }
  if (!(tolerance >= 0)) throw new SolverError('INVALID_ARGUMENT', `tolerance must be ≥ 0, got ${tolerance}`);
  let scale = 0;
  let start = 0;
  for (let i = 0; i < m; i++) {
    const d = gram[i]![i]!;
    scale = Math.max(scale, d);
    if (d < gram[start]![start]!) start = i;
  }
  const w = new Array<number>(m).fill(0);
  w[start] = 1;
  const threshold = tolerance * scale;
  let gap = 0;
  let iterations = 0;
  for (;;) {
    const { gw, q } = quad(gram, w);
    let s = 0;
    let a = -1;
    for (let i = 0; i < m; i++) {
      if (gw[i]! < gw[s]!) s = i;
      if (w[i]! > 0 && (a < 0 || gw[i]! > gw[a]!)) a = i;
    }
    const fwGap = q - gw[s]!;
    const awayGap = gw[a]! - q;
    gap = Math.max(fwGap, awayGap, 0);
    if (gap <= threshold || iterations >= maxIterations) break;
    iterations++;
    if (fwGap >= awayGap) {
      // Toward vertex s: d = e_s − w; dᵀGw = −fwGap, dᵀGd = G_ss − 2(Gw)_s + q.
      const curvature = gram[s]![s]! - 2 * gw[s]! + q;
      const gamma = curvature > 0 ? Math.min(1, fwGap / curvature) : 1;
      for (let i = 0; i < m; i++) w[i] = (1 - gamma) * w[i]!;
      w[s] = w[s]! + gamma;
    } else {
      // Away from vertex a: d = w − e_a, feasible up to γ = w_a/(1 − w_a).
      const wa = w[a]!;
      const gammaMax = wa / (1 - wa);
      const curvature = q - 2 * gw[a]! + gram[a]![a]!;
      const gamma = curvature > 0 ? Math.min(gammaMax, awayGap / curvature) : gammaMax;
      for (let i = 0; i < m; i++) w[i] = (1 + gamma) * w[i]!;
      w[a] = gamma >= gammaMax ? 0 : w[a]! - gamma;
    }
    let sum = 0;
    for (let i = 0; i < m; i++) {
      if (w[i]! < 0) w[i] = 0;
      sum += w[i]!;
    }
    for (let i = 0; i < m; i++) w[i] = w[i]! / sum;
  }
  return {
    weights: w,
    normSquared: Math.max(0, quad(gram, w).q),
    iterations,
    gap,
    converged: gap <= threshold,
  };
}

/**
 * The min-norm convex combination of m gradients given their Gram matrix:
 * c = argmin_{c ∈ simplex} ‖Σ c_i g_i‖². One gradient: c = (1). Two: the
 * closed form {@link minNormTwo}. More: {@link frankWolfeMinNorm}.
 * The direction d = Σ c_i g_i satisfies g_i·d ≥ ‖d‖² for every i (equality
 * where c_i > 0), so −d does not increase any objective to first order, and
 * d = 0 exactly at Pareto-stationary points.
 * @throws SolverError `EMPTY_OBJECTIVES` for m = 0, `NON_FINITE_GRADIENT` for NaN/∞ entries.
 */
export function minNormWeights(gram: GramMatrix, options: MinNormOptions = {}): MinNormResult {
  const m = checkGram(gram);
  if (m === 1)
    return { weights: [1], normSquared: Math.max(0, gram[0]![0]!), iterations: 0, gap: 0, converged: true };
  if (m === 2) {
    const weights = minNormTwo(gram[0]![0]!, gram[0]![1]!, gram[1]![1]!);
    return {
      weights,
      normSquared: Math.max(0, quad(gram, weights).q),
      iterations: 0,
      gap: 0,
      converged: true,
    };
  }
  return frankWolfeMinNorm(gram, options);
}
