import { CoreError } from './errors.js';

/** Serializable state of an {@link Rng}: four 32-bit words. */
export type RngState = readonly [number, number, number, number];

/** Mixes a 32-bit value (splitmix32 finalizer); used to seed and to fork streams. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes a string to 32 bits (FNV-1a), for named sub-streams. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A seeded pseudo-random generator (xoshiro128**). Every random choice in
 * moprune takes one of these — never `Math.random` — so runs are reproducible
 * and the state can be checkpointed with {@link Rng.state}.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1;
  }

  /** A generator seeded from a non-negative integer seed. */
  static fromSeed(seed: number): Rng {
    if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
      throw new CoreError('INVALID_ARGUMENT', `seed must be a non-negative safe integer, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let x = mix32(lo ^ mix32(hi));
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = mix32(x + i);
      words.push(x);
    }
    return new Rng(words as unknown as RngState);
  }

  /** A generator that continues exactly from a saved {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new CoreError('INVALID_ARGUMENT', 'RNG state must be four unsigned 32-bit integers');
    }
    return new Rng(state);
  }

  /** The current state; `Rng.fromState(r.state())` continues the same sequence. */
  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /**
   * An independent generator derived from this one's current state and a label,
   * without advancing this one. Use it to give each component its own stream.
   */
  fork(label: string): Rng {
    const h = hashString(label);
    const words = [
      mix32(this.s0 ^ h),
      mix32(this.s1 ^ mix32(h)),
      mix32(this.s2 + h),
      mix32(this.s3 ^ 0x5bd1e995 ^ h),
    ];
    return new Rng(words as unknown as RngState);
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new CoreError('INVALID_ARGUMENT', `int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /**
   * A standard normal sample (Box–Muller). The second value of the pair is
   * discarded on purpose: the generator's whole state is then its four words,
   * which is what {@link Rng.state} checkpoints.
   */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0 … n−1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** `n` floats drawn from `draw` (e.g. `() => r.normal()`) into a Float32Array. */
  fill(n: number, draw: (r: Rng) => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = draw(this);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
