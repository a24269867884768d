#include "kernels.h"

#include <cblas.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "conv_direct.h"
#include "conv_onednn.h"
#include "thread_pool.h"

namespace moprune {
namespace {

int g_threads = 0;
std::unique_ptr<ThreadPool> g_pool;
std::mutex g_pool_mutex;

// Below this many floating-point operations a kernel runs on one thread: waking
// a worker costs a few microseconds, about what 2 MFLOP take on one core.
constexpr int64_t kParallelFlops = int64_t{1} << 21;
// im2col scratch per thread, in floats (1 MiB): big enough for sgemm to reach
// full speed, small enough to stay in L2 between im2col and sgemm.
constexpr int64_t kColBudget = int64_t{1} << 18;

int DefaultThreads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& Pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) {
    if (g_threads == 0) g_threads = DefaultThreads();
    g_pool = std::make_unique<ThreadPool>(g_threads);
    // OpenBLAS never threads by itself (SplitGemm splits products over our
    // pool): its idle workers spin for a while after every threaded call,
    // which took a core away from the next kernels (LeNet-5 step at 2
    // threads: 21 ms CPU for 11 ms wall).
    openblas_set_num_threads(1);
  }
  return *g_pool;
}

// Runs body(part) on `parts` threads of our pool (OpenBLAS itself stays single-threaded).
template <typename F>
void RunParts(int parts, F body) {
  ThreadPool& pool = Pool();
  if (parts <= 1) {
    body(0);
    return;
  }
  pool.Run(parts, [&](int p) { body(p); });
}

int PartsFor(int64_t flops, int64_t units) {
  Pool();
  if (flops < kParallelFlops) return 1;
  return static_cast<int>(std::min<int64_t>(g_threads, std::max<int64_t>(units, 1)));
}

void Split(int64_t total, int parts, int part, int64_t* begin, int64_t* end) {
  const int64_t base = total / parts;
  const int64_t extra = total % parts;
  *begin = part * base + std::min<int64_t>(part, extra);
  *end = *begin + base + (part < extra ? 1 : 0);
}

// Which convolution kernels run: oneDNN's when built in (see conv_onednn.cc), else im2col + sgemm.
bool g_use_onednn = OneDnnAvailable();

const ParallelHooks& Hooks() {
  static const ParallelHooks hooks{
      [](int64_t flops, int64_t units) { return PartsFor(flops, units); },
      [](int parts, const std::function<void(int)>& fn) { RunParts(parts, fn); }};
  return hooks;
}

int64_t ColK(const ConvGeom& g) { return g.filter_h * g.filter_w * g.in_c; }

int64_t ChunkRows(int64_t k) { return std::max<int64_t>(4, kColBudget / std::max<int64_t>(k, 1)); }

bool IsPointwise(const ConvGeom& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
}

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// Gemm on our pool: the output's longer side is cut into one block per
// thread, each a single-threaded sgemm (row block of op(A) or column block of
// op(B)). Products below kParallelFlops run on the calling thread.
void SplitGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const bool rows = m >= n;
  const int parts = PartsFor(2 * m * n * k, (rows ? m : n) / 16);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(rows ? m : n, parts, p, &begin, &end);
    if (begin == end) return;
    if (rows) {
      // Rows [begin, end) of op(A): A's rows, or A's columns when transposed.
      Gemm(trans_a, trans_b, end - begin, n, k, a + (trans_a ? begin : begin * lda), lda, b, ldb, beta,
           c + begin * ldc, ldc);
    } else {
      // Columns [begin, end) of op(B): B's columns, or B's rows when transposed.
      Gemm(trans_a, trans_b, m, end - begin, k, a, lda, b + (trans_b ? begin * ldb : begin), ldb, beta, c + begin,
           ldc);
    }
  });
}

// Writes rows [r0, r1) of the im2col matrix of x: one row per output pixel
// (n, oh, ow), columns ordered (kh, kw, c) like the filter's [KH, KW, Cin] axes.
void Im2Col(const ConvGeom& g, const float* x, int64_t r0, int64_t r1, float* col) {
  const int64_t c = g.in_c;
  const int64_t plane = g.out_h * g.out_w;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / plane;
    const int64_t oh = (r % plane) / g.out_w;
    const int64_t ow = r % g.out_w;
    const float* xn = x + n * g.in_h * g.in_w * c;
    float* dst = col + (r - r0) * ColK(g);
    const int64_t iw0 = ow * g.stride_w - g.pad_left;
    // With unit dilation an in-bounds window row is one contiguous run of filter_w * c floats.
    const bool row_contiguous = g.dilation_w == 1 && iw0 >= 0 && iw0 + g.filter_w <= g.in_w;
    for (int64_t kh = 0; kh < g.filter_h; ++kh) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      const bool row_ok = ih >= 0 && ih < g.in_h;
      if (row_ok && row_contiguous) {
        const float* src = xn + (ih * g.in_w + iw0) * c;
        const int64_t run = g.filter_w * c;
        for (int64_t i = 0; i < run; ++i) dst[i] = src[i];
        dst += run;
        continue;
      }
      for (int64_t kw = 0; kw < g.filter_w; ++kw, dst += c) {
        const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
        if (row_ok && iw >= 0 && iw < g.in_w) {
          const float* src = xn + (ih * g.in_w + iw) * c;
          for (int64_t i = 0; i < c; ++i) dst[i] = src[i];
        } else {
          for (int64_t i = 0; i < c; ++i) dst[i] = 0.0f;
        }
      }
    }
  }
}

// The adjoint of Im2Col: adds rows [r0, r1) of col into dx.
void Col2ImAdd(const ConvGeom& g, const float* col, int64_t r0, int64_t r1, float* dx) {
  const int64_t c = g.in_c;
  const int64_t plane = g.out_h * g.out_w;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / plane;
    const int64_t oh = (r % plane) / g.out_w;
    const int64_t ow = r % g.out_w;
    float* dxn = dx + n * g.in_h * g.in_w * c;
    const float* src = col + (r - r0) * ColK(g);
    const int64_t iw0 = ow * g.stride_w - g.pad_left;
    const bool row_contiguous = g.dilation_w == 1 && iw0 >= 0 && iw0 + g.filter_w <= g.in_w;
    for (int64_t kh = 0; kh < g.filter_h; ++kh) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      const bool row_ok = ih >= 0 && ih < g.in_h;
      if (row_ok && row_contiguous) {
        float* dst = dxn + (ih * g.in_w + iw0) * c;
        const int64_t run = g.filter_w * c;
        for (int64_t i = 0; i < run; ++i) dst[i] += src[i];
        src += run;
        continue;
      }
      for (int64_t kw = 0; kw < g.filter_w; ++kw, src += c) {
        const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
        if (row_ok && iw >= 0 && iw < g.in_w) {
          float* dst = dxn + (ih * g.in_w + iw) * c;
          for (int64_t i = 0; i < c; ++i) dst[i] += src[i];
        }
      }
    }
  }
}

// Calls fn(ih, iw) for every in-bounds input pixel of window (oh, ow).
template <typename F>
void ForWindow(const ConvGeom& g, int64_t oh, int64_t ow, F fn) {
  for (int64_t kh = 0; kh < g.filter_h; ++kh) {
    const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
    if (ih < 0 || ih >= g.in_h) continue;
    for (int64_t kw = 0; kw < g.filter_w; ++kw) {
      const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
      if (iw < 0 || iw >= g.in_w) continue;
      fn(ih, iw);
    }
  }
}

int64_t PoolFlops(const ConvGeom& g) {
  return g.batch * g.out_h * g.out_w * g.in_c * g.filter_h * g.filter_w;
}

}  // namespace

void SetThreads(int threads) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_threads = threads < 1 ? 1 : threads;
  if (g_pool) g_pool->Resize(g_threads);
}

int Threads() {
  Pool();
  return g_threads;
}

std::size_t PoolBackoffs() { return Pool().backoffs(); }

bool PoolBlocking() { return Pool().blocking(); }

bool SetConvImplementation(bool onednn) {
  if (onednn && !OneDnnAvailable()) return false;
  g_use_onednn = onednn;
  return true;
}

const char* ConvImplementation() { return g_use_onednn ? "onednn" : "im2col"; }

void MatMul(const float* a, const float* b, float* out, int64_t batch_a, int64_t batch_b, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b) {
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  const int64_t batch = std::max(batch_a, batch_b);
  if (batch_b == 1 && !trans_a) {
    // Every A matrix meets the same B: one tall sgemm over the stacked rows.
    Pool();
    SplitGemm(false, trans_b, batch_a * m, n, k, a, lda, b, ldb, 0.0f, out, n);
    return;
  }
  const int64_t per = 2 * m * n * k;
  auto one = [&](int64_t i) {
    Gemm(trans_a, trans_b, m, n, k, a + (i % batch_a) * m * k, lda, b + (i % batch_b) * k * n, ldb, 0.0f,
         out + i * m * n, n);
  };
  // Many small products: spread whole products over our threads.
  const int parts = per < (int64_t{1} << 23) ? PartsFor(per * batch, batch) : 1;
  if (parts == 1) {
    // A few large products (or one): split each one.
    for (int64_t i = 0; i < batch; ++i) {
      SplitGemm(trans_a, trans_b, m, n, k, a + (i % batch_a) * m * k, lda, b + (i % batch_b) * k * n, ldb, 0.0f,
                out + i * m * n, n);
    }
    return;
  }
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(batch, parts, p, &begin, &end);
    for (int64_t i = begin; i < end; ++i) one(i);
  });
}

void Conv2D(const ConvGeom& g, const float* x, const float* w, float* y) {
  const int64_t k = ColK(g);
  const int64_t rows = g.batch * g.out_h * g.out_w;
  Pool();
  // One input channel, stride 1: the direct kernel, whichever general path is
  // chosen (conv_direct.cc; LeNet-5 conv1 at 2 threads ~0.65x oneDNN's time).
  if (DirectConv2D(g, x, w, y, Hooks())) return;
  if (g_use_onednn && !IsPointwise(g) && OneDnnConv2D(g, x, w, y, Hooks())) return;
  if (IsPointwise(g)) {
    SplitGemm(false, false, rows, g.out_c, k, x, k, w, g.out_c, 0.0f, y, g.out_c);
    return;
  }
  const int64_t chunk = ChunkRows(k);
  const int parts = PartsFor(2 * rows * k * g.out_c, rows / 8);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(rows, parts, p, &begin, &end);
    std::vector<float> col(static_cast<size_t>(std::min(chunk, std::max<int64_t>(end - begin, 1)) * k));
    for (int64_t r0 = begin; r0 < end; r0 += chunk) {
      const int64_t r1 = std::min(end, r0 + chunk);
      Im2Col(g, x, r0, r1, col.data());
      Gemm(false, false, r1 - r0, g.out_c, k, col.data(), k, w, g.out_c, 0.0f, y + r0 * g.out_c, g.out_c);
    }
  });
}

void Conv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int64_t k = ColK(g);
  const int64_t plane = g.out_h * g.out_w;
  Pool();
  if (g_use_onednn && !IsPointwise(g) && OneDnnConv2DBackpropInput(g, dy, w, dx, Hooks())) return;
  if (IsPointwise(g)) {
    SplitGemm(false, true, g.batch * plane, g.in_c, g.out_c, dy, g.out_c, w, g.out_c, 0.0f, dx, g.in_c);
    return;
  }
  const int64_t chunk = ChunkRows(k);
  const int64_t image = g.in_h * g.in_w * g.in_c;
  // Threads own whole images so their scatter-adds never touch the same pixel.
  const int parts = PartsFor(2 * g.batch * plane * k * g.out_c, g.batch);
  RunParts(parts, [&](int p) {
    int64_t b0, b1;
    Split(g.batch, parts, p, &b0, &b1);
    std::fill(dx + b0 * image, dx + b1 * image, 0.0f);
    const int64_t begin = b0 * plane;
    const int64_t end = b1 * plane;
    std::vector<float> col(static_cast<size_t>(std::min(chunk, std::max<int64_t>(end - begin, 1)) * k));
    for (int64_t r0 = begin; r0 < end; r0 += chunk) {
      const int64_t r1 = std::min(end, r0 + chunk);
      Gemm(false, true, r1 - r0, k, g.out_c, dy + r0 * g.out_c, g.out_c, w, g.out_c, 0.0f, col.data(), k);
      Col2ImAdd(g, col.data(), r0, r1, dx);
    }
  });
}

void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const int64_t k = ColK(g);
  const int64_t rows = g.batch * g.out_h * g.out_w;
  Pool();
  // The direct filter gradient only replaces im2col: against oneDNN it measured
  // on par (LeNet-5 conv1, 2 threads: 0.35 vs 0.35 ms), so oneDNN keeps it.
  if (!g_use_onednn && DirectConv2DBackpropFilter(g, x, dy, dw, Hooks())) return;
  if (g_use_onednn && !IsPointwise(g) && OneDnnConv2DBackpropFilter(g, x, dy, dw, Hooks())) return;
  if (IsPointwise(g)) {
    SplitGemm(true, false, k, g.out_c, rows, x, k, dy, g.out_c, 0.0f, dw, g.out_c);
    return;
  }
  const int64_t chunk = ChunkRows(k);
  const int64_t size = k * g.out_c;
  const int parts = PartsFor(2 * rows * size, rows / 8);
  // Each thread sums its rows' contribution into its own accumulator.
  std::vector<std::vector<float>> partial(static_cast<size_t>(parts > 1 ? parts - 1 : 0));
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(rows, parts, p, &begin, &end);
    float* acc = dw;
    if (p > 0) {
      partial[p - 1].assign(static_cast<size_t>(size), 0.0f);
      acc = partial[p - 1].data();
    } else {
      std::fill(dw, dw + size, 0.0f);
    }
    std::vector<float> col(static_cast<size_t>(std::min(chunk, std::max<int64_t>(end - begin, 1)) * k));
    for (int64_t r0 = begin; r0 < end; r0 += chunk) {
      const int64_t r1 = std::min(end, r0 + chunk);
      Im2Col(g, x, r0, r1, col.data());
      Gemm(true, false, k, g.out_c, r1 - r0, col.data(), k, dy + r0 * g.out_c, g.out_c, 1.0f, acc, g.out_c);
    }
  });
  for (const auto& part : partial) {
    for (int64_t i = 0; i < size; ++i) dw[i] += part[static_cast<size_t>(i)];
  }
}

void BiasActivation(float* y, int64_t size, const float* bias, int64_t channels, int activation) {
  const int64_t rows = size / channels;
  const int parts = PartsFor(size * 8, rows);
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      float* row = y + r * channels;
      if (bias != nullptr) {
        for (int64_t c = 0; c < channels; ++c) row[c] += bias[c];
      }
      if (activation == 1) {
        // NaN stays NaN, as in tfjs's relu.
        for (int64_t c = 0; c < channels; ++c) row[c] = row[c] < 0.0f ? 0.0f : row[c];
      } else if (activation == 2) {
        for (int64_t c = 0; c < channels; ++c) row[c] = row[c] < 0.0f ? 0.0f : (row[c] > 6.0f ? 6.0f : row[c]);
      }
    }
  });
}

namespace {

// 2x2 windows at stride 2 inside the input (LeNet's pools): with the channel
// count a compile-time constant the per-window loops unroll and vectorize;
// the generic loops spent most of their time on loop overhead for C = 6
// (LeNet-5's first pool at batch 128: forward 0.41 -> 0.08 ms, gradient
// 0.46 -> 0.27 ms; its second, C = 16: 0.06 -> 0.03 and 0.125 -> 0.06 ms).
bool Pool2x2(const ConvGeom& g) {
  return g.filter_h == 2 && g.filter_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 &&
         g.dilation_w == 1 && g.pad_top == 0 && g.pad_left == 0 && g.out_h * 2 <= g.in_h && g.out_w * 2 <= g.in_w;
}

// Calls f(std::integral_constant<int, C>) for the channel counts with a
// specialized loop; false for the others.
template <typename F>
bool WithChannels(int64_t c, F f) {
  switch (c) {
    case 1: f(std::integral_constant<int, 1>{}); return true;
    case 2: f(std::integral_constant<int, 2>{}); return true;
    case 3: f(std::integral_constant<int, 3>{}); return true;
    case 4: f(std::integral_constant<int, 4>{}); return true;
    case 6: f(std::integral_constant<int, 6>{}); return true;
    case 8: f(std::integral_constant<int, 8>{}); return true;
    case 16: f(std::integral_constant<int, 16>{}); return true;
    case 32: f(std::integral_constant<int, 32>{}); return true;
    case 64: f(std::integral_constant<int, 64>{}); return true;
    default: return false;
  }
}

// `v > m ? v : m` from -inf skips NaN inputs, which is what tfjs's cpu pool does.
inline float Keep(float m, float v) { return v > m ? v : m; }

#if defined(__SSE2__)
// One 2x2 window's gradient for 4 channels, t/b = the window's top/bottom row
// at those channels (right taps `c` floats on): dy goes to the first tap equal
// to the NaN-skipping maximum — the first strict maximum of a left-to-right
// scan — and nowhere when the window has only -inf/NaN. Compare masks, not
// branches: which tap wins is random.
inline void Grad2x2Group(const float* t, const float* b, const float* d, float* dt, float* db, int64_t c) {
  const __m128 ninf = _mm_set1_ps(-std::numeric_limits<float>::infinity());
  const auto keep = [](__m128 m, __m128 v) {
    const __m128 g = _mm_cmpgt_ps(v, m);
    return _mm_or_ps(_mm_and_ps(g, v), _mm_andnot_ps(g, m));
  };
  const __m128 v0 = _mm_loadu_ps(t), v1 = _mm_loadu_ps(t + c), v2 = _mm_loadu_ps(b), v3 = _mm_loadu_ps(b + c);
  const __m128 m = keep(keep(keep(keep(ninf, v0), v1), v2), v3);
  __m128 open = _mm_cmpgt_ps(m, ninf);
  const __m128 e0 = _mm_and_ps(open, _mm_cmpeq_ps(v0, m));
  open = _mm_andnot_ps(e0, open);
  const __m128 e1 = _mm_and_ps(open, _mm_cmpeq_ps(v1, m));
  open = _mm_andnot_ps(e1, open);
  const __m128 e2 = _mm_and_ps(open, _mm_cmpeq_ps(v2, m));
  const __m128 e3 = _mm_andnot_ps(e2, open);
  const __m128 dv = _mm_loadu_ps(d);
  _mm_storeu_ps(dt, _mm_and_ps(e0, dv));
  _mm_storeu_ps(dt + c, _mm_and_ps(e1, dv));
  _mm_storeu_ps(db, _mm_and_ps(e2, dv));
  _mm_storeu_ps(db + c, _mm_and_ps(e3, dv));
}
#endif

template <int C>
void MaxPool2x2Rows(const ConvGeom& g, const float* x, float* y, int64_t r0, int64_t r1) {
  const int64_t row = g.in_w * C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.out_h;
    const int64_t oh = r % g.out_h;
    const float* top = x + (n * g.in_h + 2 * oh) * row;
    float* out = y + r * g.out_w * C;
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const float* __restrict t = top + 2 * ow * C;
      const float* __restrict b = t + row;
      float* __restrict o = out + ow * C;
      for (int i = 0; i < C; ++i) {
        float m = Keep(-std::numeric_limits<float>::infinity(), t[i]);
        m = Keep(m, t[C + i]);
        m = Keep(m, b[i]);
        o[i] = Keep(m, b[C + i]);
      }
    }
  }
}

// Gradient over images [b0, b1): each dy goes to the first strict maximum of its window.
template <int C>
void MaxPoolGrad2x2Images(const ConvGeom& g, const float* x, const float* dy, float* dx, int64_t b0, int64_t b1) {
  const int64_t row = g.in_w * C;
  for (int64_t n = b0; n < b1; ++n) {
    const float* xn = x + n * g.in_h * row;
    float* dxn = dx + n * g.in_h * row;
    // Pixels no window covers (an odd last row or column) get no gradient.
    for (int64_t ih = 0; ih < g.in_h; ++ih) {
      const int64_t from = ih < g.out_h * 2 ? g.out_w * 2 * C : 0;
      std::fill(dxn + ih * row + from, dxn + (ih + 1) * row, 0.0f);
    }
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t base = (2 * oh * g.in_w + 2 * ow) * C;
        const float* __restrict t = xn + base;
        const float* __restrict b = t + row;
        const float* __restrict d = dy + ((n * g.out_h + oh) * g.out_w + ow) * C;
        float* __restrict dt = dxn + base;
        float* __restrict db = dt + row;
#if defined(__SSE2__)
        if (C >= 4) {
          // Groups of 4 channels; the last may overlap the one before (C = 6:
          // channels 0-3, then 2-5) and rewrites the same values.
          for (int i = 0; i < C; i += 4) {
            const int j = i + 4 <= C ? i : C - 4;
            Grad2x2Group(t + j, b + j, d + j, dt + j, db + j, C);
          }
          continue;
        }
#endif
        for (int i = 0; i < C; ++i) {
          // The first tap equal to the window's maximum is the first strict
          // maximum of a left-to-right scan; a window of -inf/NaN has none.
          const float m = Keep(Keep(Keep(Keep(-std::numeric_limits<float>::infinity(), t[i]), t[C + i]), b[i]), b[C + i]);
          const bool has = m > -std::numeric_limits<float>::infinity();
          const bool e0 = t[i] == m;
          const bool e1 = t[C + i] == m;
          const bool e2 = b[i] == m;
          dt[i] = has && e0 ? d[i] : 0.0f;
          dt[C + i] = has && !e0 && e1 ? d[i] : 0.0f;
          db[i] = has && !e0 && !e1 && e2 ? d[i] : 0.0f;
          db[C + i] = has && !e0 && !e1 && !e2 ? d[i] : 0.0f;
        }
      }
    }
  }
}

}  // namespace

void MaxPool(const ConvGeom& g, const float* x, float* y) {
  const int64_t c = g.in_c;
  const int64_t rows = g.batch * g.out_h;
  const int parts = PartsFor(PoolFlops(g), rows);
  if (Pool2x2(g) && WithChannels(c, [&](auto k) {
        RunParts(parts, [&](int p) {
          int64_t r0, r1;
          Split(rows, parts, p, &r0, &r1);
          MaxPool2x2Rows<decltype(k)::value>(g, x, y, r0, r1);
        });
      })) {
    return;
  }
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.out_h;
      const int64_t oh = r % g.out_h;
      const float* xn = x + n * g.in_h * g.in_w * c;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        float* out = y + ((r * g.out_w) + ow) * c;
        std::fill(out, out + c, -std::numeric_limits<float>::infinity());
        // `v > m` skips NaN inputs, which is what tfjs's cpu pool does.
        ForWindow(g, oh, ow, [&](int64_t ih, int64_t iw) {
          const float* src = xn + (ih * g.in_w + iw) * c;
          for (int64_t i = 0; i < c; ++i) out[i] = src[i] > out[i] ? src[i] : out[i];
        });
      }
    }
  });
}

namespace {

// Windows that tile the input (stride = window, no padding or dilation): each
// input pixel belongs to at most one window, so dx is written once, in order,
// with no zero fill and no scattered adds. LeNet's 2x2/2 pools: 5x faster.
bool TiledPool(const ConvGeom& g) {
  return g.stride_h == g.filter_h && g.stride_w == g.filter_w && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.pad_top == 0 && g.pad_left == 0 && g.out_h * g.filter_h <= g.in_h && g.out_w * g.filter_w <= g.in_w;
}

// One window's max-pool gradient for channels [i, i + width) with width 4
// (whole SSE registers) or 1 (the _ss forms): select masks instead of
// branches, because which tap wins is random and branches mispredicted
// (3.6 ms for LeNet-5's first pool gradient, 0.6 ms this way).
template <bool kWide>
inline void TiledWindow(const ConvGeom& g, const float* xw, const float* d, float* dxw, int64_t i) {
#if defined(__SSE2__)
  const auto load = [](const float* p) { return kWide ? _mm_loadu_ps(p) : _mm_load_ss(p); };
  const int64_t c = g.in_c;
  __m128 best = _mm_set1_ps(-std::numeric_limits<float>::infinity());
  __m128i winner = _mm_set1_epi32(-1);
  int32_t tap = 0;
  // The first strict maximum wins and NaN never does, as in tfjs's maxPoolPositions.
  for (int64_t kh = 0; kh < g.filter_h; ++kh) {
    for (int64_t kw = 0; kw < g.filter_w; ++kw, ++tap) {
      const __m128 v = load(xw + (kh * g.in_w + kw) * c + i);
      const __m128 wins = _mm_cmpgt_ps(v, best);
      best = _mm_or_ps(_mm_and_ps(wins, v), _mm_andnot_ps(wins, best));
      const __m128i w = _mm_castps_si128(wins);
      winner = _mm_or_si128(_mm_and_si128(w, _mm_set1_epi32(tap)), _mm_andnot_si128(w, winner));
    }
  }
  const __m128 dv = load(d + i);
  tap = 0;
  for (int64_t kh = 0; kh < g.filter_h; ++kh) {
    for (int64_t kw = 0; kw < g.filter_w; ++kw, ++tap) {
      const __m128 hit = _mm_castsi128_ps(_mm_cmpeq_epi32(winner, _mm_set1_epi32(tap)));
      float* dst = dxw + (kh * g.in_w + kw) * g.in_c + i;
      if (kWide) {
        _mm_storeu_ps(dst, _mm_and_ps(hit, dv));
      } else {
        _mm_store_ss(dst, _mm_and_ps(hit, dv));
      }
    }
  }
#else
  const int64_t c = g.in_c;
  const int64_t width = kWide ? 4 : 1;
  for (int64_t j = i; j < i + width; ++j) {
    float best = -std::numeric_limits<float>::infinity();
    int64_t winner = -1, tap = 0;
    for (int64_t kh = 0; kh < g.filter_h; ++kh) {
      for (int64_t kw = 0; kw < g.filter_w; ++kw, ++tap) {
        const float v = xw[(kh * g.in_w + kw) * c + j];
        if (v > best) best = v, winner = tap;
      }
    }
    tap = 0;
    for (int64_t kh = 0; kh < g.filter_h; ++kh) {
      for (int64_t kw = 0; kw < g.filter_w; ++kw, ++tap) dxw[(kh * g.in_w + kw) * c + j] = winner == tap ? d[j] : 0.0f;
    }
  }
#endif
}

void TiledMaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx, int64_t b0, int64_t b1) {
  const int64_t c = g.in_c;
  const int64_t row = g.in_w * c;
  const int64_t covered_w = g.out_w * g.filter_w * c;
  for (int64_t n = b0; n < b1; ++n) {
    const float* xn = x + n * g.in_h * row;
    float* dxn = dx + n * g.in_h * row;
    // Pixels no window covers (right and bottom edges) get no gradient.
    for (int64_t ih = 0; ih < g.in_h; ++ih) {
      const int64_t from = ih < g.out_h * g.filter_h ? covered_w : 0;
      std::fill(dxn + ih * row + from, dxn + (ih + 1) * row, 0.0f);
    }
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t base = (oh * g.filter_h * g.in_w + ow * g.filter_w) * c;
        const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * c;
        if (c < 4) {
          for (int64_t i = 0; i < c; ++i) TiledWindow<false>(g, xn + base, d, dxn + base, i);
          continue;
        }
        // The last group may overlap the one before (c = 6: channels 0-3, then 2-5):
        // it recomputes and rewrites the same values, cheaper than single channels.
        for (int64_t i = 0; i < c; i += 4) TiledWindow<true>(g, xn + base, d, dxn + base, std::min(i, c - 4));
      }
    }
  }
}

}  // namespace

void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx) {
  const int64_t c = g.in_c;
  const int64_t image = g.in_h * g.in_w * c;
  const int parts = PartsFor(PoolFlops(g), g.batch);
  if (Pool2x2(g) && WithChannels(c, [&](auto k) {
        RunParts(parts, [&](int p) {
          int64_t b0, b1;
          Split(g.batch, parts, p, &b0, &b1);
          MaxPoolGrad2x2Images<decltype(k)::value>(g, x, dy, dx, b0, b1);
        });
      })) {
    return;
  }
  if (TiledPool(g)) {
    RunParts(parts, [&](int p) {
      int64_t b0, b1;
      Split(g.batch, parts, p, &b0, &b1);
      TiledMaxPoolGrad(g, x, dy, dx, b0, b1);
    });
    return;
  }
  RunParts(parts, [&](int p) {
    int64_t b0, b1;
    Split(g.batch, parts, p, &b0, &b1);
    std::fill(dx + b0 * image, dx + b1 * image, 0.0f);
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<int64_t> where(static_cast<size_t>(c));
    for (int64_t n = b0; n < b1; ++n) {
      const float* xn = x + n * image;
      float* dxn = dx + n * image;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(where.begin(), where.end(), int64_t{-1});
          // The first strict maximum wins, as in tfjs's maxPoolPositions.
          ForWindow(g, oh, ow, [&](int64_t ih, int64_t iw) {
            const int64_t base = (ih * g.in_w + iw) * c;
            // Selects, not branches: which tap wins is data-dependent and
            // mispredicts; these compile to conditional moves.
            for (int64_t i = 0; i < c; ++i) {
              const float v = xn[base + i];
              const bool wins = v > best[i];
              best[i] = wins ? v : best[i];
              where[i] = wins ? base + i : where[i];
            }
          });
          const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * c;
          for (int64_t i = 0; i < c; ++i) {
            if (where[i] >= 0) dxn[where[i]] += d[i];
          }
        }
      }
    }
  });
}

void AvgPool(const ConvGeom& g, const float* x, float* y) {
  const int64_t c = g.in_c;
  const int64_t rows = g.batch * g.out_h;
  const int parts = PartsFor(PoolFlops(g), rows);
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.out_h;
      const int64_t oh = r % g.out_h;
      const float* xn = x + n * g.in_h * g.in_w * c;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        float* out = y + ((r * g.out_w) + ow) * c;
        std::fill(out, out + c, 0.0f);
        int64_t count = 0;
        ForWindow(g, oh, ow, [&](int64_t ih, int64_t iw) {
          const float* src = xn + (ih * g.in_w + iw) * c;
          for (int64_t i = 0; i < c; ++i) out[i] += src[i];
          ++count;
        });
        const float scale = 1.0f / static_cast<float>(count);
        for (int64_t i = 0; i < c; ++i) out[i] *= scale;
      }
    }
  });
}

void AvgPoolGrad(const ConvGeom& g, const float* dy, float* dx) {
  const int64_t c = g.in_c;
  const int64_t image = g.in_h * g.in_w * c;
  const int parts = PartsFor(PoolFlops(g), g.batch);
  RunParts(parts, [&](int p) {
    int64_t b0, b1;
    Split(g.batch, parts, p, &b0, &b1);
    std::fill(dx + b0 * image, dx + b1 * image, 0.0f);
    // tfjs's AvgPoolGrad kernel contract (cpu and wasm alike): divide by the
    // whole window, even where it hangs over the padding. @moprune/backend's
    // AvgPool gradient rescales border windows on top of exactly this.
    const float scale = 1.0f / static_cast<float>(g.filter_h * g.filter_w);
    for (int64_t n = b0; n < b1; ++n) {
      float* dxn = dx + n * image;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * c;
          ForWindow(g, oh, ow, [&](int64_t ih, int64_t iw) {
            float* dst = dxn + (ih * g.in_w + iw) * c;
            for (int64_t i = 0; i < c; ++i) dst[i] += d[i] * scale;
          });
        }
      }
    }
  });
}

namespace {

// Elementwise work is memory-bound: split it only when there is enough of it.
constexpr int64_t kParallelElements = int64_t{1} << 16;

int PartsForElements(int64_t size) {
  Pool();
  return size < kParallelElements ? 1 : g_threads;
}

template <typename F>
void BinaryLoop(const float* a, int64_t a_size, const float* b, int64_t b_size, float* out, int64_t begin,
                int64_t end, F f) {
  if (a_size == b_size) {
    for (int64_t i = begin; i < end; ++i) out[i] = f(a[i], b[i]);
  } else if (b_size == 1) {
    const float bv = b[0];
    for (int64_t i = begin; i < end; ++i) out[i] = f(a[i], bv);
  } else if (a_size == 1) {
    const float av = a[0];
    for (int64_t i = begin; i < end; ++i) out[i] = f(av, b[i]);
  } else if (b_size < a_size) {
    // b repeats every b_size elements: walk whole periods, no division per element.
    int64_t i = begin;
    while (i < end) {
      const int64_t j0 = i % b_size;
      const int64_t stop = std::min(end, i + (b_size - j0));
      for (int64_t j = j0; i < stop; ++i, ++j) out[i] = f(a[i], b[j]);
    }
  } else {
    int64_t i = begin;
    while (i < end) {
      const int64_t j0 = i % a_size;
      const int64_t stop = std::min(end, i + (a_size - j0));
      for (int64_t j = j0; i < stop; ++i, ++j) out[i] = f(a[j], b[i]);
    }
  }
}

}  // namespace

// A short repeating operand (a bias of a few channels) is repeated into a
// period of at least kMinPeriod floats first: the period walk then runs long
// vectorized stretches instead of a loop of C iterations per pixel (LeNet-5's
// conv1 bias, C = 6).
static constexpr int64_t kMinPeriod = 64;

// `v` (n floats) repeated up to a length that is a multiple of n and >= kMinPeriod.
static std::vector<float> Repeated(const float* v, int64_t n) {
  const int64_t times = (kMinPeriod + n - 1) / n;
  std::vector<float> r(static_cast<size_t>(n * times));
  for (int64_t t = 0; t < times; ++t) std::memcpy(r.data() + t * n, v, static_cast<size_t>(n) * sizeof(float));
  return r;
}

void Binary(int op, const float* a, int64_t a_size, const float* b, int64_t b_size, float* out, int64_t out_size) {
  std::vector<float> longer;
  if (a_size == out_size && b_size > 1 && b_size < kMinPeriod && out_size >= kMinPeriod) {
    longer = Repeated(b, b_size);
    b = longer.data();
    b_size = static_cast<int64_t>(longer.size());
  } else if (b_size == out_size && a_size > 1 && a_size < kMinPeriod && out_size >= kMinPeriod) {
    longer = Repeated(a, a_size);
    a = longer.data();
    a_size = static_cast<int64_t>(longer.size());
  }
  const int parts = PartsForElements(out_size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(out_size, parts, p, &begin, &end);
    switch (op) {
      case 0:
        BinaryLoop(a, a_size, b, b_size, out, begin, end, [](float x, float y) { return x + y; });
        break;
      case 1:
        BinaryLoop(a, a_size, b, b_size, out, begin, end, [](float x, float y) { return x - y; });
        break;
      case 2:
        BinaryLoop(a, a_size, b, b_size, out, begin, end, [](float x, float y) { return x * y; });
        break;
      case 3:
        BinaryLoop(a, a_size, b, b_size, out, begin, end, [](float x, float y) { return x / y; });
        break;
      default:
        // Add then ReLU (a bias and its activation); NaN stays NaN, as tfjs's relu.
        BinaryLoop(a, a_size, b, b_size, out, begin, end, [](float x, float y) {
          const float s = x + y;
          return s < 0.0f ? 0.0f : s;
        });
        break;
    }
  });
}

template <typename F>
void StridedRows(const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out, const int64_t* shape,
                 int rank, int64_t r0, int64_t r1, F f) {
  const int64_t inner = shape[rank - 1];
  const int64_t sa = as[rank - 1];
  const int64_t sb = bs[rank - 1];
  for (int64_t r = r0; r < r1; ++r) {
    int64_t rest = r, ao = 0, bo = 0;
    for (int d = rank - 2; d >= 0; --d) {
      const int64_t idx = rest % shape[d];
      rest /= shape[d];
      ao += idx * as[d];
      bo += idx * bs[d];
    }
    float* o = out + r * inner;
    for (int64_t i = 0; i < inner; ++i) o[i] = f(a[ao + i * sa], b[bo + i * sb]);
  }
}

void BinaryStrided(int op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides, float* out,
                   const int64_t* shape, int rank) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= shape[d];
  const int64_t rows = total / shape[rank - 1];
  const int parts = PartsForElements(total);
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    switch (op) {
      case 0:
        StridedRows(a, a_strides, b, b_strides, out, shape, rank, r0, r1, [](float x, float y) { return x + y; });
        break;
      case 1:
        StridedRows(a, a_strides, b, b_strides, out, shape, rank, r0, r1, [](float x, float y) { return x - y; });
        break;
      case 2:
        StridedRows(a, a_strides, b, b_strides, out, shape, rank, r0, r1, [](float x, float y) { return x * y; });
        break;
      default:
        StridedRows(a, a_strides, b, b_strides, out, shape, rank, r0, r1, [](float x, float y) { return x / y; });
        break;
    }
  });
}

void ChannelAffine(const float* x, float* out, int64_t size, const float* center, const float* scale, const float* shift,
                   int64_t channels) {
  const int64_t rows = size / channels;
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * channels;
      float* yr = out + r * channels;
      for (int64_t c = 0; c < channels; ++c) yr[c] = (xr[c] - center[c]) * scale[c] + shift[c];
    }
  });
}

namespace {

// Rows per float accumulation block before it is added into double: short
// enough that float rounding stays small, long enough that the inner loop is
// plain float SIMD.
constexpr int64_t kBlockRows = 64;

// Parts for a per-channel reduction over `rows`: each part needs its own
// accumulators, so never more parts than rows.
int PartsForRows(int64_t rows, int64_t channels) {
  return static_cast<int>(std::min<int64_t>(PartsForElements(rows * channels), std::max<int64_t>(rows, 1)));
}

// Calls add_row(r, bs, bq) for rows [r0, r1), where add_row adds one row's
// terms into the float block sums bs[c], bq[c]; every kBlockRows rows the block
// sums are added into the double totals s[c], q[c].
template <typename AddRow>
void AccumulateBlocks(int64_t r0, int64_t r1, int64_t channels, double* s, double* q, AddRow add_row) {
  std::vector<float> fs(static_cast<size_t>(channels)), fq(static_cast<size_t>(channels));
  for (int64_t blk = r0; blk < r1; blk += kBlockRows) {
    const int64_t stop = std::min(r1, blk + kBlockRows);
    std::fill(fs.begin(), fs.end(), 0.0f);
    std::fill(fq.begin(), fq.end(), 0.0f);
    for (int64_t r = blk; r < stop; ++r) add_row(r, fs.data(), fq.data());
    for (int64_t c = 0; c < channels; ++c) {
      s[c] += fs[static_cast<size_t>(c)];
      q[c] += fq[static_cast<size_t>(c)];
    }
  }
}

// Adds to s[c] the sum of (a[r, c] - ka[c]) and to q[c] the sum of
// (a[r, c] - ka[c]) * (b[r, c] - kb[c]) over rows [r0, r1); b == nullptr means b = a, kb = ka.
void AccumulatePairs(const float* a, const float* ka, const float* b, const float* kb, int64_t r0, int64_t r1,
                     int64_t channels, double* s, double* q) {
  AccumulateBlocks(r0, r1, channels, s, q, [&](int64_t r, float* __restrict bs, float* __restrict bq) {
    const float* __restrict ar = a + r * channels;
    if (b == nullptr) {
      for (int64_t c = 0; c < channels; ++c) {
        const float d = ar[c] - ka[c];
        bs[c] += d;
        bq[c] += d * d;
      }
    } else {
      const float* __restrict br = b + r * channels;
      for (int64_t c = 0; c < channels; ++c) {
        const float d = ar[c] - ka[c];
        bs[c] += d;
        bq[c] += d * (br[c] - kb[c]);
      }
    }
  });
}

// out[r, c] = u[r, c] * alpha[c] + (v[r, c] - center[c]) * beta[c] + gamma[c] over all
// rows, in parallel; v == nullptr drops the middle term and uses center for u instead:
// out = (u - center) * alpha + gamma.
void ChannelCombine(const float* u, const float* alpha, const float* v, const float* center, const float* beta,
                    const float* gamma, float* out, int64_t rows, int64_t channels) {
  const int parts = PartsForRows(rows, channels);
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict ur = u + r * channels;
      float* __restrict yr = out + r * channels;
      if (v == nullptr) {
        for (int64_t c = 0; c < channels; ++c) yr[c] = (ur[c] - center[c]) * alpha[c] + gamma[c];
      } else {
        const float* __restrict vr = v + r * channels;
        for (int64_t c = 0; c < channels; ++c) yr[c] = ur[c] * alpha[c] + (vr[c] - center[c]) * beta[c] + gamma[c];
      }
    }
  });
}

}  // namespace

namespace {

// scale / sqrt(variance + epsilon) from the float outputs, computed the same
// way by the forward kernel and its gradient, so that the gradient recomputes
// bit for bit the pre-activations the forward kernel clamped.
float BatchNormFactor(float scale, float variance, float epsilon) {
  return static_cast<float>(static_cast<double>(scale) /
                            std::sqrt(static_cast<double>(variance) + static_cast<double>(epsilon)));
}

// The ReLU gradient of one pre-activation, as tfjs's dy * step(pre): dy where
// pre > 0, dy * 0 where pre <= 0 (NaN for an infinite or NaN dy), NaN for a NaN pre.
inline float ReluMasked(float pre, float d) { return pre > 0.0f ? d : (pre <= 0.0f ? d * 0.0f : pre); }

#if defined(__SSE2__)
// ReluMasked on 4 lanes with compare masks: the sign of pre is random, and the
// scalar form compiles to branches that mispredicted (10x slower gradient).
inline __m128 ReluMasked4(__m128 pre, __m128 d) {
  const __m128 zero = _mm_setzero_ps();
  const __m128 pos = _mm_cmpgt_ps(pre, zero);
  const __m128 r = _mm_or_ps(_mm_and_ps(pos, d), _mm_andnot_ps(pos, _mm_mul_ps(d, zero)));
  const __m128 nan = _mm_cmpunord_ps(pre, pre);
  return _mm_or_ps(_mm_andnot_ps(nan, r), _mm_and_ps(nan, pre));
}
#endif

// For the fused ReLU: s[c] += sum of g and q[c] += sum of g * (x - mean) over
// rows [r0, r1), g = dy masked by the recomputed pre-activation (x - mean) * a + offset.
void AccumulateReluMasked(const float* dy, const float* x, const float* mean, const float* a, const float* offset,
                          int64_t r0, int64_t r1, int64_t channels, double* s, double* q) {
  AccumulateBlocks(r0, r1, channels, s, q, [&](int64_t r, float* __restrict bs, float* __restrict bq) {
    const float* __restrict dr = dy + r * channels;
    const float* __restrict xr = x + r * channels;
    int64_t c = 0;
#if defined(__SSE2__)
    for (; c + 4 <= channels; c += 4) {
      const __m128 xm = _mm_sub_ps(_mm_loadu_ps(xr + c), _mm_loadu_ps(mean + c));
      const __m128 pre = _mm_add_ps(_mm_mul_ps(xm, _mm_loadu_ps(a + c)), _mm_loadu_ps(offset + c));
      const __m128 g = ReluMasked4(pre, _mm_loadu_ps(dr + c));
      _mm_storeu_ps(bs + c, _mm_add_ps(_mm_loadu_ps(bs + c), g));
      _mm_storeu_ps(bq + c, _mm_add_ps(_mm_loadu_ps(bq + c), _mm_mul_ps(g, xm)));
    }
#endif
    for (; c < channels; ++c) {
      const float xm = xr[c] - mean[c];
      const float g = ReluMasked(xm * a[c] + offset[c], dr[c]);
      bs[c] += g;
      bq[c] += g * xm;
    }
  });
}

}  // namespace

void BatchNormTraining(const float* x, const float* scale, const float* offset, float* y, float* mean,
                       float* variance, int64_t rows, int64_t channels, float epsilon, bool relu) {
  if (rows == 0) {
    std::fill(mean, mean + channels, std::numeric_limits<float>::quiet_NaN());
    std::fill(variance, variance + channels, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const int parts = PartsForRows(rows, channels);
  const size_t c = static_cast<size_t>(channels);
  std::vector<double> acc(static_cast<size_t>(parts) * 2 * c, 0.0);
  const float* shift = x;  // the first row
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    double* s = acc.data() + static_cast<size_t>(p) * 2 * c;
    AccumulatePairs(x, shift, nullptr, nullptr, r0, r1, channels, s, s + c);
  });
  std::vector<float> a(c);
  for (size_t k = 0; k < c; ++k) {
    double s = 0.0, q = 0.0;
    for (int p = 0; p < parts; ++p) {
      s += acc[static_cast<size_t>(p) * 2 * c + k];
      q += acc[static_cast<size_t>(p) * 2 * c + c + k];
    }
    const double m = s / static_cast<double>(rows);
    mean[k] = static_cast<float>(static_cast<double>(shift[k]) + m);
    variance[k] = static_cast<float>(std::max(0.0, q / static_cast<double>(rows) - m * m));
    a[k] = BatchNormFactor(scale[k], variance[k], epsilon);
  }
  if (!relu) {
    ChannelCombine(x, a.data(), nullptr, mean, nullptr, offset, y, rows, channels);
    return;
  }
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    const float* __restrict av = a.data();
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict xr = x + r * channels;
      float* __restrict yr = y + r * channels;
      for (int64_t k = 0; k < channels; ++k) {
        const float pre = (xr[k] - mean[k]) * av[k] + offset[k];
        yr[k] = pre < 0.0f ? 0.0f : pre;  // NaN stays NaN, as in tfjs's relu
      }
    }
  });
}

void BatchNormTrainingGrad(const float* dy, const float* x, const float* scale, const float* offset, const float* mean,
                           const float* variance, float* dx, float* dscale, float* doffset, int64_t rows,
                           int64_t channels, float epsilon, bool relu) {
  const size_t c = static_cast<size_t>(channels);
  if (rows == 0) {
    std::fill(dscale, dscale + channels, 0.0f);
    std::fill(doffset, doffset + channels, 0.0f);
    return;
  }
  const int parts = PartsForRows(rows, channels);
  std::vector<double> acc(static_cast<size_t>(parts) * 2 * c, 0.0);
  const std::vector<float> zero(c, 0.0f);
  std::vector<float> factor(c);
  for (size_t k = 0; k < c; ++k) factor[k] = BatchNormFactor(scale[k], variance[k], epsilon);
  // Per channel: sum g and sum g * (x - mean), g = dy (masked by the ReLU when fused).
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    double* s = acc.data() + static_cast<size_t>(p) * 2 * c;
    if (relu) {
      AccumulateReluMasked(dy, x, mean, factor.data(), offset, r0, r1, channels, s, s + c);
    } else {
      AccumulatePairs(dy, zero.data(), x, mean, r0, r1, channels, s, s + c);
    }
  });
  // dx = A*g + B*(x - mean) + G with A = scale*r, B = -scale*r^2*dscale/rows, G = -A*doffset/rows.
  std::vector<float> a(c), bcoef(c), g(c);
  const double n = static_cast<double>(rows);
  for (size_t k = 0; k < c; ++k) {
    double sdy = 0.0, sdx = 0.0;
    for (int p = 0; p < parts; ++p) {
      sdy += acc[static_cast<size_t>(p) * 2 * c + k];
      sdx += acc[static_cast<size_t>(p) * 2 * c + c + k];
    }
    const double r = 1.0 / std::sqrt(static_cast<double>(variance[k]) + static_cast<double>(epsilon));
    const double ds = sdx * r;
    doffset[k] = static_cast<float>(sdy);
    dscale[k] = static_cast<float>(ds);
    const double ak = static_cast<double>(scale[k]) * r;
    const double bk = -ak * r * ds / n;
    a[k] = static_cast<float>(ak);
    bcoef[k] = static_cast<float>(bk);
    g[k] = static_cast<float>(-ak * sdy / n);
  }
  if (!relu) {
    ChannelCombine(dy, a.data(), x, mean, bcoef.data(), g.data(), dx, rows, channels);
    return;
  }
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    const float* __restrict fv = factor.data();
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict dr = dy + r * channels;
      const float* __restrict xr = x + r * channels;
      float* __restrict out = dx + r * channels;
      int64_t k = 0;
#if defined(__SSE2__)
      for (; k + 4 <= channels; k += 4) {
        const __m128 xm = _mm_sub_ps(_mm_loadu_ps(xr + k), _mm_loadu_ps(mean + k));
        const __m128 pre = _mm_add_ps(_mm_mul_ps(xm, _mm_loadu_ps(fv + k)), _mm_loadu_ps(offset + k));
        const __m128 gv = ReluMasked4(pre, _mm_loadu_ps(dr + k));
        const __m128 v = _mm_add_ps(_mm_add_ps(_mm_mul_ps(gv, _mm_loadu_ps(a.data() + k)),
                                               _mm_mul_ps(xm, _mm_loadu_ps(bcoef.data() + k))),
                                    _mm_loadu_ps(g.data() + k));
        _mm_storeu_ps(out + k, v);
      }
#endif
      for (; k < channels; ++k) {
        const float xm = xr[k] - mean[k];
        const float gv = ReluMasked(xm * fv[k] + offset[k], dr[k]);
        out[k] = gv * a[k] + xm * bcoef[k] + g[k];
      }
    }
  });
}

void Unary(int op, const float* x, float* out, int64_t size, float alpha) {
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(size, parts, p, &begin, &end);
    if (op == 0) {
      for (int64_t i = begin; i < end; ++i) out[i] = x[i] < 0.0f ? 0.0f : x[i];
    } else if (op == 2) {
      for (int64_t i = begin; i < end; ++i) out[i] = x[i] * x[i];
    } else if (op == 3) {
      // tfjs's Abs: Math.abs (NaN stays NaN, −0 becomes 0).
      for (int64_t i = begin; i < end; ++i) out[i] = std::fabs(x[i]);
    } else if (op == 5) {
      // tfjs's cpu Exp: Math.exp in double precision, stored as float32.
      for (int64_t i = begin; i < end; ++i) out[i] = static_cast<float>(std::exp(static_cast<double>(x[i])));
    } else if (op == 4) {
      // tfjs's cpu Sign: −1 below 0, 1 above, 0 otherwise (±0 and NaN).
      for (int64_t i = begin; i < end; ++i) {
        const float v = x[i];
        out[i] = v < 0.0f ? -1.0f : (v > 0.0f ? 1.0f : 0.0f);
      }
    } else {
      // Signs of activations are random, so a branchy loop mispredicts half
      // the time (4 ms on a LeNet-5 activation); compare masks do not.
      int64_t i = begin;
#if defined(__SSE2__)
      const __m128 zero = _mm_setzero_ps();
      const __m128 one = _mm_set1_ps(1.0f);
      const __m128 alpha4 = _mm_set1_ps(alpha);
      for (; i + 4 <= end; i += 4) {
        const __m128 v = _mm_loadu_ps(x + i);
        const __m128 r = _mm_or_ps(_mm_and_ps(_mm_cmpgt_ps(v, zero), one), _mm_and_ps(_mm_cmple_ps(v, zero), alpha4));
        const __m128 nan = _mm_cmpunord_ps(v, v);
        _mm_storeu_ps(out + i, _mm_or_ps(_mm_andnot_ps(nan, r), _mm_and_ps(nan, v)));
      }
#endif
      for (; i < end; ++i) {
        const float v = x[i];
        out[i] = v > 0.0f ? 1.0f : (v <= 0.0f ? alpha : v);
      }
    }
  });
}

namespace {

// out[i] = dy[i] * step(x[i]) over [begin, end), exactly as tfjs's ReLU gradient.
void ReluGradRange(const float* dy, const float* x, float* out, int64_t begin, int64_t end) {
  int64_t i = begin;
#if defined(__SSE2__)
  // Compare masks, not branches (the signs of activations are random).
  const __m128 zero = _mm_setzero_ps();
  for (; i + 4 <= end; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    const __m128 d = _mm_loadu_ps(dy + i);
    const __m128 pos = _mm_cmpgt_ps(v, zero);
    const __m128 r = _mm_or_ps(_mm_and_ps(pos, d), _mm_andnot_ps(pos, _mm_mul_ps(d, zero)));
    const __m128 nan = _mm_cmpunord_ps(v, v);
    _mm_storeu_ps(out + i, _mm_or_ps(_mm_andnot_ps(nan, r), _mm_and_ps(nan, v)));
  }
#endif
  for (; i < end; ++i) {
    const float v = x[i];
    out[i] = v > 0.0f ? dy[i] : (v <= 0.0f ? dy[i] * 0.0f : v);
  }
}

}  // namespace

namespace {

// One range of the Adam update. Compiled for AVX-512, AVX2 and the baseline and chosen at load time
// (GCC function multiversioning): the loop has a square root and two divisions per element, which
// ran scalar (0.34–0.51 ms for LeNet-300-100's 266,610 parameters, as long as all its matrix
// products) until the compiler could vectorize it. The values are the scalar loop's bit for bit:
// IEEE division and square root are exact in every lane width, the build keeps multiplications and
// additions unfused (-ffp-contract=off) and sqrt needs no errno (-fno-math-errno).
__attribute__((target_clones("avx512f", "avx2", "default"))) void AdamRange(
    const float* __restrict w, const float* __restrict g, const float* __restrict m, const float* __restrict v,
    float* __restrict w_out, float* __restrict m_out, float* __restrict v_out, int64_t begin, int64_t end, float b1,
    float b2, float a1, float a2, float eps, float scale, float bc1, float bc2, bool corrected) {
  // `corrected` does not change inside the loop: the compiler makes one vector loop per placement.
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * a1;
    const float vi = v[i] * b2 + (gi * gi) * a2;
    m_out[i] = mi;
    v_out[i] = vi;
    const float step = corrected ? (mi / bc1) / (std::sqrt(vi / bc2) + eps) : mi / (std::sqrt(vi) + eps);
    w_out[i] = w[i] - step * scale;
  }
}

}  // namespace

namespace {

__attribute__((target_clones("avx512f", "avx2", "default"))) void SgdRange(
    const float* __restrict w, const float* __restrict g, const float* __restrict b, float* __restrict w_out,
    float* __restrict b_out, int64_t begin, int64_t end, float lr, float mu, int style, bool nesterov) {
  if (style == 0) {
    for (int64_t i = begin; i < end; ++i) w_out[i] = w[i] - g[i] * lr;
  } else if (style == 1) {
    if (nesterov) {
      for (int64_t i = begin; i < end; ++i) {
        const float bi = b[i] * mu + g[i];
        b_out[i] = bi;
        w_out[i] = w[i] - (g[i] + bi * mu) * lr;
      }
    } else {
      for (int64_t i = begin; i < end; ++i) {
        const float bi = b[i] * mu + g[i];
        b_out[i] = bi;
        w_out[i] = w[i] - bi * lr;
      }
    }
  } else {
    if (nesterov) {
      for (int64_t i = begin; i < end; ++i) {
        const float vi = b[i] * mu - g[i] * lr;
        b_out[i] = vi;
        w_out[i] = (w[i] + vi * mu) - g[i] * lr;
      }
    } else {
      for (int64_t i = begin; i < end; ++i) {
        const float vi = b[i] * mu - g[i] * lr;
        b_out[i] = vi;
        w_out[i] = w[i] + vi;
      }
    }
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void MovingAverageRange(
    const float* __restrict a, const float* __restrict v, float* __restrict out, int64_t begin, int64_t end, float b,
    float c) {
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] * b + v[i] * c;
}

}  // namespace

void MovingAverage(const float* a, const float* v, float* out, int64_t size, float b) {
  const float c = 1.0f - b;
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(size, parts, p, &begin, &end);
    MovingAverageRange(a, v, out, begin, end, b, c);
  });
}

void SgdUpdate(const float* w, const float* g, const float* b, float* w_out, float* b_out, int64_t size, float lr,
               float mu, int style, bool nesterov) {
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(size, parts, p, &begin, &end);
    SgdRange(w, g, b, w_out, b_out, begin, end, lr, mu, style, nesterov);
  });
}

void AdamUpdate(const float* w, const float* g, const float* m, const float* v, float* w_out, float* m_out,
                float* v_out, int64_t size, float b1, float b2, float eps, float scale, float bc1, float bc2,
                bool corrected) {
  const float a1 = 1.0f - b1;
  const float a2 = 1.0f - b2;
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(size, parts, p, &begin, &end);
    AdamRange(w, g, m, v, w_out, m_out, v_out, begin, end, b1, b2, a1, a2, eps, scale, bc1, bc2, corrected);
  });
}

namespace {

// Sixteen running double sums, one per lane, combined in a fixed order at the end: the lanes are
// independent, so the compiler vectorizes the loop without reassociating any sum (the value does
// not depend on the vector width chosen at load time). `abs`: Σ|x|, else Σx².
__attribute__((target_clones("avx512f", "avx2", "default"))) double SumLanes(const float* __restrict x, int64_t size,
                                                                              bool abs) {
  constexpr int kLanes = 16;
  double lanes[kLanes] = {};
  int64_t i = 0;
  if (abs) {
    for (; i + kLanes <= size; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) lanes[l] += std::fabs(static_cast<double>(x[i + l]));
    }
    for (int l = 0; i < size; ++i, ++l) lanes[l] += std::fabs(static_cast<double>(x[i]));
  } else {
    for (; i + kLanes <= size; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const double v = x[i + l];
        lanes[l] += v * v;
      }
    }
    for (int l = 0; i < size; ++i, ++l) {
      const double v = x[i];
      lanes[l] += v * v;
    }
  }
  double total = 0.0;
  for (int l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

}  // namespace

double SumSquares(const float* x, int64_t size) { return SumLanes(x, size, false); }

double SumAbs(const float* x, int64_t size) { return SumLanes(x, size, true); }

void ReluGrad(const float* dy, const float* x, float* out, int64_t size) {
  const int parts = PartsForElements(size);
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(size, parts, p, &begin, &end);
    ReluGradRange(dy, x, out, begin, end);
  });
}

void GatherByteRows(const uint8_t* src, const uint32_t* rows, int64_t n, int64_t row_size, const float* lut,
                    int64_t channels, float* out) {
  const int parts = static_cast<int>(std::min<int64_t>(PartsForElements(n * row_size), std::max<int64_t>(n, 1)));
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(n, parts, p, &begin, &end);
    for (int64_t k = begin; k < end; ++k) {
      const uint8_t* from = src + static_cast<int64_t>(rows[k]) * row_size;
      float* to = out + k * row_size;
      if (channels == 1) {
        for (int64_t i = 0; i < row_size; ++i) to[i] = lut[from[i]];
      } else {
        for (int64_t i = 0; i < row_size; i += channels) {
          for (int64_t c = 0; c < channels; ++c) to[i + c] = lut[c * 256 + from[i + c]];
        }
      }
    }
  });
}

namespace {

// Rows added in float before their sum joins the double accumulator: float
// adds vectorize (4 per SSE instruction, no conversions), and 32 terms keep
// the float rounding error near 32 ulp of the partial sum.
constexpr int64_t kFloatBlockRows = 32;

// acc[i] += sum over r < rows of x[r * inner + i].
void AccumulateRows(const float* x, int64_t rows, int64_t inner, double* acc) {
  if (inner < 8) {
    // Few columns (a bias gradient of C = 6): sum groups of m rows as one wide
    // row of m * inner floats, then fold the columns. The remaining rows one by one.
    const int64_t m = std::max<int64_t>(1, 64 / inner);
    const int64_t groups = m > 1 ? rows / m : 0;
    if (groups > 0) {
      std::vector<double> wide(static_cast<size_t>(m * inner), 0.0);
      AccumulateRows(x, groups, m * inner, wide.data());
      for (int64_t k = 0; k < m * inner; ++k) acc[k % inner] += wide[static_cast<size_t>(k)];
    }
    for (int64_t r = groups * m; r < rows; ++r) {
      for (int64_t i = 0; i < inner; ++i) acc[i] += x[r * inner + i];
    }
    return;
  }
  std::vector<float> block(static_cast<size_t>(inner));
  for (int64_t r0 = 0; r0 < rows; r0 += kFloatBlockRows) {
    const int64_t r1 = std::min(rows, r0 + kFloatBlockRows);
    float* b = block.data();
    const float* first = x + r0 * inner;
    for (int64_t i = 0; i < inner; ++i) b[i] = first[i];
    for (int64_t r = r0 + 1; r < r1; ++r) {
      const float* row = x + r * inner;
      for (int64_t i = 0; i < inner; ++i) b[i] += row[i];
    }
    for (int64_t i = 0; i < inner; ++i) acc[i] += b[i];
  }
}

}  // namespace

void SumAxes(const float* x, float* out, int64_t outer, int64_t mid, int64_t inner) {
  const bool split_outer = outer >= g_threads || PartsForElements(outer * mid * inner) == 1;
  const int parts = PartsForElements(outer * mid * inner) == 1
                        ? 1
                        : static_cast<int>(std::min<int64_t>(g_threads, split_outer ? outer : mid));
  // Splitting `mid` needs one accumulator per part; splitting `outer` writes disjoint outputs.
  std::vector<std::vector<double>> acc(static_cast<size_t>(parts),
                                       std::vector<double>(static_cast<size_t>(split_outer ? inner : outer * inner)));
  RunParts(parts, [&](int p) {
    std::vector<double>& a = acc[static_cast<size_t>(p)];
    if (split_outer) {
      int64_t begin, end;
      Split(outer, parts, p, &begin, &end);
      for (int64_t o = begin; o < end; ++o) {
        std::fill(a.begin(), a.end(), 0.0);
        AccumulateRows(x + o * mid * inner, mid, inner, a.data());
        for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(a[static_cast<size_t>(i)]);
      }
    } else {
      int64_t begin, end;
      Split(mid, parts, p, &begin, &end);
      for (int64_t o = 0; o < outer; ++o) {
        AccumulateRows(x + (o * mid + begin) * inner, end - begin, inner, a.data() + o * inner);
      }
    }
  });
  if (!split_outer) {
    for (int64_t j = 0; j < outer * inner; ++j) {
      double total = 0.0;
      for (const auto& a : acc) total += a[static_cast<size_t>(j)];
      out[j] = static_cast<float>(total);
    }
  }
}

void BiasAddReluGrad(const float* dy, const float* y, int64_t rows, int64_t channels, float* dx, float* dbias) {
  const int64_t size = rows * channels;
  const int parts = PartsForElements(size) == 1 ? 1 : static_cast<int>(std::min<int64_t>(g_threads, rows));
  // Rows go in blocks of ~16 KB: a block's dx is summed into the bias gradient
  // while it is still in L1, so the gradient costs one pass over dy and y
  // instead of a ReLU-gradient pass and a reduction pass. Blocks hold whole
  // groups of the few-column fold (AccumulateRows, C < 8).
  const int64_t group = channels < 8 ? std::max<int64_t>(1, 64 / channels) : 1;
  const int64_t block = std::max<int64_t>(group, (4096 / channels) / group * group);
  std::vector<std::vector<double>> acc(static_cast<size_t>(parts), std::vector<double>(static_cast<size_t>(channels)));
  RunParts(parts, [&](int p) {
    int64_t r0, r1;
    Split(rows, parts, p, &r0, &r1);
    double* a = acc[static_cast<size_t>(p)].data();
    for (int64_t b0 = r0; b0 < r1; b0 += block) {
      const int64_t b1 = std::min(r1, b0 + block);
      ReluGradRange(dy, y, dx, b0 * channels, b1 * channels);
      AccumulateRows(dx + b0 * channels, b1 - b0, channels, a);
    }
  });
  for (int64_t c = 0; c < channels; ++c) {
    double total = 0.0;
    for (const auto& a : acc) total += a[static_cast<size_t>(c)];
    dbias[c] = static_cast<float>(total);
  }
}

namespace {

void CopyBoxDim(int d, int rank, const float* src, const int64_t* src_stride, const int64_t* src_step, float* dst,
                const int64_t* dst_stride, const int64_t* box) {
  const int64_t n = box[d];
  if (d == rank - 1) {
    const int64_t s = src_stride[d] * src_step[d];
    if (s == 1 && dst_stride[d] == 1) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    } else {
      for (int64_t i = 0; i < n; ++i) dst[i * dst_stride[d]] = src[i * s];
    }
    return;
  }
  const int64_t ss = src_stride[d] * src_step[d];
  for (int64_t i = 0; i < n; ++i) {
    CopyBoxDim(d + 1, rank, src + i * ss, src_stride, src_step, dst + i * dst_stride[d], dst_stride, box);
  }
}

}  // namespace

namespace {

// Copies the box `box` from src (element strides src_stride) into dst
// (strides dst_stride), in parallel over the box's first axis.
void CopyStrided(int rank, const float* src, const int64_t* src_stride, float* dst, const int64_t* dst_stride,
                 const int64_t* box) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= box[d];
  if (total == 0) return;
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  const int parts = PartsForElements(total) == 1 ? 1 : static_cast<int>(std::min<int64_t>(g_threads, box[0]));
  RunParts(parts, [&](int p) {
    int64_t begin, end;
    Split(box[0], parts, p, &begin, &end);
    int64_t sub_box[8];
    std::copy(box, box + rank, sub_box);
    sub_box[0] = end - begin;
    if (sub_box[0] == 0) return;
    CopyBoxDim(0, rank, src + begin * src_stride[0], src_stride, ones, dst + begin * dst_stride[0], dst_stride, sub_box);
  });
}

void RowMajorStrides(int rank, const int64_t* shape, int64_t* strides) {
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[d];
  }
}

}  // namespace

void CopyBox(int rank, const float* src, const int64_t* src_shape, const int64_t* src_begin, const int64_t* src_step,
             float* dst, const int64_t* dst_shape, const int64_t* dst_begin, const int64_t* box) {
  int64_t src_stride[8], dst_stride[8], step_stride[8];
  RowMajorStrides(rank, src_shape, src_stride);
  RowMajorStrides(rank, dst_shape, dst_stride);
  int64_t so = 0, dof = 0;
  for (int d = 0; d < rank; ++d) {
    so += src_begin[d] * src_stride[d];
    dof += dst_begin[d] * dst_stride[d];
    step_stride[d] = src_stride[d] * src_step[d];
  }
  CopyStrided(rank, src + so, step_stride, dst + dof, dst_stride, box);
}

void BroadcastTo(int rank, const float* x, const int64_t* x_shape, float* out, const int64_t* out_shape) {
  int64_t x_stride[8], src_stride[8], out_stride[8];
  RowMajorStrides(rank, x_shape, x_stride);
  RowMajorStrides(rank, out_shape, out_stride);
  for (int d = 0; d < rank; ++d) src_stride[d] = x_shape[d] == 1 ? 0 : x_stride[d];
  // The common case (a per-channel or per-row gradient spread over a batch):
  // x equals the output's trailing axes and repeats along the leading ones.
  // The output is then x, doubled by memcpy until full: no per-row work.
  int tail = rank;
  while (tail > 0 && x_shape[tail - 1] == out_shape[tail - 1]) --tail;
  bool leading_only = true;
  for (int d = 0; d < tail; ++d) leading_only = leading_only && x_shape[d] == 1;
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= out_shape[d];
  if (leading_only) {
    int64_t block = 1;
    for (int d = tail; d < rank; ++d) block *= x_shape[d];
    if (total == 0 || block == 0) return;
    std::memcpy(out, x, static_cast<size_t>(block) * sizeof(float));
    for (int64_t filled = block; filled < total;) {
      const int64_t n = std::min(filled, total - filled);
      std::memcpy(out + filled, out, static_cast<size_t>(n) * sizeof(float));
      filled += n;
    }
    return;
  }
  CopyStrided(rank, x, src_stride, out, out_stride, out_shape);
}

void Transpose(int rank, const float* x, const int64_t* shape, const int64_t* perm, float* out) {
  int64_t x_stride[8], src_stride[8], out_shape[8], out_stride[8];
  RowMajorStrides(rank, shape, x_stride);
  for (int d = 0; d < rank; ++d) {
    out_shape[d] = shape[perm[d]];
    src_stride[d] = x_stride[perm[d]];
  }
  RowMajorStrides(rank, out_shape, out_stride);
  CopyStrided(rank, x, src_stride, out, out_stride, out_shape);
}

}  // namespace moprune
