import { totalmem } from 'node:os';

/**
 * Recycles the output arrays of native kernels once TensorFlow.js disposes
 * their tensors.
 *
 * Why: every tfjs op returns a fresh array, and an ArrayBuffer's memory is
 * returned only when V8's garbage collector finds it unreachable. A ResNet-20
 * training step allocates about a gigabyte of activations and gradients, so V8
 * ran ~70 collections per step for "external memory pressure" (3 ms each for
 * the full ones), and every fresh array was page-faulted in anew. With the
 * arrays reused the step allocates nothing once warm.
 *
 * Safety: an array is reused only while nothing outside the data store can
 * see it. It escapes — and is then left to the garbage collector forever —
 * when its values are read out (`readSync`/`read`, i.e. `dataSync()`,
 * `data()`, `bufferSync()`, which hand out the stored array itself), when a
 * second tensor is stored with the same array, or when a view into its memory
 * (a zero-copy slice) is stored. So a caller's `dataSync()` result never
 * changes under its feet, and a slice view never outlives its memory.
 */
export class OutputPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Arrays this pool handed out that have not escaped, with how many stored tensors hold each. */
  private readonly live = new WeakMap<Float32Array, number>();
  /** The handed-out array that owns each buffer, to recognize views into it. */
  private readonly owners = new WeakMap<ArrayBufferLike, Float32Array>();
  private pooledBytes = 0;

  /** @param limitBytes most bytes kept in free lists; 0 turns recycling off. */
  constructor(private readonly limitBytes: number) {}

  /**
   * An array of `size` floats: a recycled one when available, else a new one.
   * Contents are zero when `zeroed`, arbitrary otherwise (the kernel writes every element).
   */
  take(size: number, zeroed: boolean): Float32Array {
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= size * 4;
      if (zeroed) reused.fill(0);
      this.live.set(reused, 0);
      return reused;
    }
    let out: Float32Array;
    if (zeroed || size < UNFILLED_MIN) {
      out = new Float32Array(size);
    } else {
      // Skips the zero fill `new Float32Array` pays (a third of an allocation's cost).
      const bytes = Buffer.allocUnsafeSlow(size * 4);
      out = new Float32Array(bytes.buffer, bytes.byteOffset, size);
    }
    if (this.limitBytes > 0) {
      this.live.set(out, 0);
      this.owners.set(out.buffer, out);
    }
    return out;
  }

  /** Called for every array the data store receives. */
  stored(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const count = this.live.get(values);
    if (count !== undefined) {
      if (count === 0) this.live.set(values, 1);
      else this.escape(values);
      return;
    }
    const owner = this.owners.get(values.buffer);
    if (owner !== undefined) this.escape(owner);
  }

  /** Called when the store hands `values` out to a caller. */
  exposed(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const owner = this.owners.get(values.buffer);
    if (owner !== undefined) this.escape(owner);
  }

  /** Called when the store drops `values`: a handed-out array that never escaped goes back to its free list. */
  released(values: unknown): void {
    if (!(values instanceof Float32Array) || this.live.get(values) !== 1) return;
    if (this.pooledBytes + values.length * 4 > this.limitBytes) {
      this.escape(values);
      return;
    }
    this.live.set(values, 0);
    let list = this.free.get(values.length);
    if (list === undefined) {
      list = [];
      this.free.set(values.length, list);
    }
    list.push(values);
    this.pooledBytes += values.length * 4;
  }

  /** Drops every free array (the backend is disposed). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  private escape(values: Float32Array): void {
    this.live.delete(values);
    this.owners.delete(values.buffer);
  }
}

/** Below this many elements the zero fill is too cheap to skip. */
const UNFILLED_MIN = 1 << 14;

/**
 * MOPRUNE_NATIVE_POOL_MB, else a quarter of the machine's memory. A training
 * step frees all its activations and gradients at once when it ends (about
 * 1.5 GB for ResNet-20 at batch 128); a pool smaller than that drops arrays
 * the next step allocates again. Without the pool the same memory would sit
 * unreachable until V8 collects it, so the pool does not raise the peak.
 */
function limitFromEnv(): number {
  const raw = process.env.MOPRUNE_NATIVE_POOL_MB;
  if (raw === undefined || raw === '') return Math.floor(totalmem() / 4);
  const mb = Number(raw);
  return Number.isFinite(mb) && mb > 0 ? Math.floor(mb * 2 ** 20) : 0;
}

/** The process's pool: one native backend per process shares it. */
export const outputPool = new OutputPool(limitFromEnv());
