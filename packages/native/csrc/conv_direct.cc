// Direct convolution for one input channel, stride 1, dilation 1: a
// network's first layer on grey images (LeNet-5's conv1: 28×28×1 → 6,
// 5×5, 'same'). oneDNN runs it at ~48 GFLOP/s on two threads here (0.63 ms
// forward for batch 128), far below its speed on wider layers: with one
// input channel there is nothing to vectorize over in the input, and 6
// output channels fill 6 of 16 lanes. The kernels in conv_direct_impl.h
// vectorize along the flat NHWC output row instead (see the comment there).
//
// The addon is compiled for the x86-64 baseline, so the kernels are compiled
// twice inside `#pragma GCC target` regions (AVX-512F; AVX2 + FMA) and chosen
// at run time with __builtin_cpu_supports. Other CPUs (and other compilers,
// clang included) keep the general kernels: DirectConvApplies is false there.
#include "conv_direct.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

// GCC only: clang also defines __GNUC__ but ignores `#pragma GCC target`, and
// the AVX-512 intrinsics would then fail to compile, losing the whole addon.
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define MOPRUNE_DIRECT_X86 1
#include <immintrin.h>
#endif

namespace moprune {
namespace {

enum Isa : int { kNone = 0, kAvx2 = 1, kAvx512 = 2 };

Isa DetectIsa() {
#if defined(MOPRUNE_DIRECT_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
#endif
  return kNone;
}

const Isa g_best = DetectIsa();
Isa g_isa = g_best;

// Per-thread scratch above this many floats (expanded input rows of one
// image, repeated weight rows) would no longer fit the caches; such inputs
// are not what this kernel is for and take the general path.
constexpr int64_t kMaxScratch = int64_t{1} << 21;

}  // namespace

#if defined(MOPRUNE_DIRECT_X86)

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
namespace direct_avx512 {
using Vec = __m512;
using Mask = __mmask16;
using Idx = __m512i;
constexpr int64_t kLanes = 16;
// Forward: 4 rows x up to 4 vectors = 16 accumulators + 4 weights of 32 zmm
// registers. Filter gradient: 5 taps x 4 vectors = 20 accumulators + 4 dy.
constexpr int kRows = 4;
constexpr int kMaxBlock = 4;
constexpr int kMaxKx = 5;
constexpr int kGradBlock = 4;
inline Vec Zero() { return _mm512_setzero_ps(); }
inline Vec Load(const float* p) { return _mm512_loadu_ps(p); }
inline void Store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec Fma(Vec a, Vec b, Vec acc) { return _mm512_fmadd_ps(a, b, acc); }
inline Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Mask TailMask(int n) { return static_cast<Mask>((1u << n) - 1u); }
inline Vec MaskLoad(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void MaskStore(float* p, Mask m, Vec v) { _mm512_mask_storeu_ps(p, m, v); }
inline Idx LoadIdx(const int32_t* p) { return _mm512_loadu_si512(p); }
inline Vec Permute(Idx idx, Vec v) { return _mm512_permutexvar_ps(idx, v); }
#include "conv_direct_impl.h"
}  // namespace direct_avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace direct_avx2 {
using Vec = __m256;
using Mask = __m256i;
using Idx = __m256i;
constexpr int64_t kLanes = 8;
// 16 ymm registers (the input operand of an FMA is read from memory):
// forward 2 rows x 4 vectors + 4 weights, filter gradient 5 taps x 2 + 2 dy.
constexpr int kRows = 2;
constexpr int kMaxBlock = 4;
constexpr int kMaxKx = 5;
constexpr int kGradBlock = 2;
inline Vec Zero() { return _mm256_setzero_ps(); }
inline Vec Load(const float* p) { return _mm256_loadu_ps(p); }
inline void Store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec Fma(Vec a, Vec b, Vec acc) { return _mm256_fmadd_ps(a, b, acc); }
inline Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Mask TailMask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline Vec MaskLoad(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
inline void MaskStore(float* p, Mask m, Vec v) { _mm256_maskstore_ps(p, m, v); }
inline Idx LoadIdx(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline Vec Permute(Idx idx, Vec v) { return _mm256_permutevar8x32_ps(v, idx); }
#include "conv_direct_impl.h"
}  // namespace direct_avx2
#pragma GCC pop_options

#endif  // MOPRUNE_DIRECT_X86

const char* DirectConvIsa() {
  switch (g_isa) {
    case kAvx512:
      return "avx512";
    case kAvx2:
      return "avx2";
    default:
      return nullptr;
  }
}

bool SetDirectConvIsa(const char* name) {
  Isa want = kNone;
  if (std::strcmp(name, "auto") == 0) {
    want = g_best;
  } else if (std::strcmp(name, "avx512") == 0) {
    want = kAvx512;
  } else if (std::strcmp(name, "avx2") == 0) {
    want = kAvx2;
  } else if (std::strcmp(name, "off") != 0) {
    return false;
  }
  // AVX-512 CPUs have AVX2 + FMA too.
  if (want > g_best) return false;
  g_isa = want;
  return true;
}

bool DirectConvApplies(const ConvGeom& g) {
  if (g_isa == kNone || g.in_c != 1 || g.stride_h != 1 || g.stride_w != 1 || g.dilation_h != 1 ||
      g.dilation_w != 1) {
    return false;
  }
  // Scratch sizes with 16 lanes (bounds for 8 too): expanded rows hold whole
  // groups of up to 16 pixels.
  const int64_t padded = (g.out_w * g.out_c + 15) / 16 * 16;
  const int64_t stride = padded + g.out_c * (g.filter_w + 16);
  return (g.out_h + g.filter_h) * stride <= kMaxScratch && g.filter_h * g.filter_w * padded <= kMaxScratch;
}

bool DirectConv2D(const ConvGeom& g, const float* x, const float* w, float* y, const ParallelHooks& hooks) {
  if (!DirectConvApplies(g)) return false;
#if defined(MOPRUNE_DIRECT_X86)
  if (g_isa == kAvx512) {
    direct_avx512::Forward(g, x, w, y, hooks);
  } else {
    direct_avx2::Forward(g, x, w, y, hooks);
  }
  return true;
#else
  return false;
#endif
}

bool DirectConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw,
                                const ParallelHooks& hooks) {
  if (!DirectConvApplies(g)) return false;
#if defined(MOPRUNE_DIRECT_X86)
  if (g_isa == kAvx512) {
    direct_avx512::BackpropFilter(g, x, dy, dw, hooks);
  } else {
    direct_avx2::BackpropFilter(g, x, dy, dw, hooks);
  }
  return true;
#else
  return false;
#endif
}

}  // namespace moprune
