// Convolutions on oneDNN's direct (JIT) kernels, when the addon is built
// with oneDNN (MOPRUNE_WITH_ONEDNN). For the few-channel convolutions of
// LeNet/ResNet-style nets (C = 1…64) they take 1/3 of the time of
// im2col + sgemm on one core (README, "Why oneDNN for convolutions").
//
// Threading: Debian's oneDNN is built on OpenMP. On a 2-core machine shared
// with other jobs, OpenMP's static schedule and spinning barriers made a
// 2-thread convolution 5–8× slower than one thread whenever another process
// held a core. So oneDNN always runs single-threaded here (OpenMP's thread
// count is set to 1 on the calling thread, no OpenMP team is ever started),
// and we parallelize ourselves: the batch is split over our thread pool, whose
// parts are claimed rather than assigned, and each thread runs a primitive
// made for its slice of the batch.
#include "conv_onednn.h"

#if defined(MOPRUNE_WITH_ONEDNN)

#include <omp.h>

#include <algorithm>
#include <array>
#include <dnnl.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace moprune {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum Kind : int64_t { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

// OpenMP's thread count for the calling thread is 1 (see the top of the file).
// It must be set before a primitive is *created* too: oneDNN fixes a
// primitive's thread count when it builds it and later starts an OpenMP team
// of that size regardless (a 2-thread team of spinning workers cost 10x).
void SingleThreaded() {
  if (omp_get_max_threads() != 1) omp_set_num_threads(1);
}

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Primitives for one geometry, one kind and one batch slice. Building a
// primitive JIT-compiles a kernel (milliseconds); a training step reuses the
// same few dozen geometries, so they are cached.
struct Entry {
  std::unique_ptr<dnnl::primitive> conv;
  memory::desc src, weights, dst;  // weights in the primitive's own (blocked) layout
  memory::desc weights_user;       // [KH, KW, Cin, Cout]
  size_t scratch_bytes = 0;
};

using Key = std::array<int64_t, 17>;

std::mutex g_cache_mutex;
// shared_ptr: a lookup that clears the cache must not free an entry the caller still holds.
std::map<Key, std::shared_ptr<Entry>> g_cache;
// Bounds the cache for programs that see ever new shapes.
constexpr size_t kMaxEntries = 256;

Key MakeKey(const ConvGeom& g, Kind kind, int64_t batch) {
  return {kind,       batch,      g.in_h,     g.in_w,       g.in_c,       g.filter_h,   g.filter_w, g.out_c, g.out_h,
          g.out_w,    g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top,    g.pad_left, 0};
}

// Padding at the bottom/right that makes oneDNN's output size equal tfjs's.
int64_t PadEnd(int64_t in, int64_t out, int64_t filter, int64_t stride, int64_t dilation, int64_t pad_begin) {
  return (out - 1) * stride + (filter - 1) * dilation + 1 - in - pad_begin;
}

std::shared_ptr<Entry> Lookup(const ConvGeom& g, Kind kind, int64_t batch) {
  SingleThreaded();
  const Key key = MakeKey(g, kind, batch);
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto it = g_cache.find(key);
  if (it != g_cache.end()) return it->second;
  if (g_cache.size() >= kMaxEntries) g_cache.clear();

  const memory::dims src_dims{batch, g.in_c, g.in_h, g.in_w};
  const memory::dims w_dims{g.out_c, g.in_c, g.filter_h, g.filter_w};
  const memory::dims dst_dims{batch, g.out_c, g.out_h, g.out_w};
  const memory::dims strides{g.stride_h, g.stride_w};
  const memory::dims dilates{g.dilation_h - 1, g.dilation_w - 1};
  const memory::dims pad_l{g.pad_top, g.pad_left};
  const memory::dims pad_r{PadEnd(g.in_h, g.out_h, g.filter_h, g.stride_h, g.dilation_h, g.pad_top),
                           PadEnd(g.in_w, g.out_w, g.filter_w, g.stride_w, g.dilation_w, g.pad_left)};
  const memory::desc src_md(src_dims, memory::data_type::f32, Tag::nhwc);
  const memory::desc dst_md(dst_dims, memory::data_type::f32, Tag::nhwc);
  const memory::desc w_any(w_dims, memory::data_type::f32, Tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  auto entry = std::make_shared<Entry>();
  entry->src = src_md;
  entry->dst = dst_md;
  entry->weights_user = memory::desc(w_dims, memory::data_type::f32, Tag::hwio);
  const auto algo = dnnl::algorithm::convolution_direct;
  // The backward primitives need the forward one's descriptor as a hint.
  const dnnl::convolution_forward::desc fwd_d(dnnl::prop_kind::forward_training, algo, src_md, w_any, dst_md, strides,
                                              dilates, pad_l, pad_r);
  const dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, attr, Engine());
  if (kind == kForward) {
    entry->weights = fwd_pd.weights_desc();
    entry->scratch_bytes = fwd_pd.scratchpad_desc().get_size();
    entry->conv = std::make_unique<dnnl::convolution_forward>(fwd_pd);
  } else if (kind == kBackwardData) {
    const dnnl::convolution_backward_data::desc d(algo, src_md, w_any, dst_md, strides, dilates, pad_l, pad_r);
    const dnnl::convolution_backward_data::primitive_desc pd(d, attr, Engine(), fwd_pd);
    entry->weights = pd.weights_desc();
    entry->scratch_bytes = pd.scratchpad_desc().get_size();
    entry->conv = std::make_unique<dnnl::convolution_backward_data>(pd);
  } else {
    const dnnl::convolution_backward_weights::desc d(algo, src_md, w_any, dst_md, strides, dilates, pad_l, pad_r);
    const dnnl::convolution_backward_weights::primitive_desc pd(d, attr, Engine(), fwd_pd);
    entry->weights = pd.diff_weights_desc();
    entry->scratch_bytes = pd.scratchpad_desc().get_size();
    entry->conv = std::make_unique<dnnl::convolution_backward_weights>(pd);
  }
  g_cache.emplace(key, entry);
  return entry;
}

// Per-thread stream and scratchpad: oneDNN primitives may run concurrently on
// different threads when each brings its own scratchpad.
dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

std::vector<uint8_t>& ThreadScratch(size_t bytes) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch;
}

void Execute(Entry* e, std::unordered_map<int, memory>&& args) {
  SingleThreaded();
  std::vector<uint8_t>& scratch = ThreadScratch(e->scratch_bytes);
  args.emplace(DNNL_ARG_SCRATCHPAD,
               memory(memory::desc({static_cast<memory::dim>(e->scratch_bytes)}, memory::data_type::u8, Tag::x),
                      Engine(), scratch.data()));
  e->conv->execute(ThreadStream(), args);
  ThreadStream().wait();
}

// Weights [KH, KW, Cin, Cout] → the primitive's layout, into `out` (resized).
void ReorderWeightsIn(const Entry* e, const float* w, std::vector<float>& out) {
  out.resize(e->weights.get_size() / sizeof(float) + 1);
  memory src(e->weights_user, Engine(), const_cast<float*>(w));
  memory dst(e->weights, Engine(), out.data());
  SingleThreaded();
  dnnl::reorder(src, dst).execute(ThreadStream(), src, dst);
  ThreadStream().wait();
}

// The batch slices: `parts` slices of `per` images, the last one possibly shorter.
struct Slices {
  int parts;
  int64_t per;
};

Slices SliceBatch(const ConvGeom& g, const ParallelHooks& hooks, int64_t flops) {
  const int parts = hooks.parts(flops, g.batch);
  const int64_t per = (g.batch + parts - 1) / parts;
  return {static_cast<int>((g.batch + per - 1) / per), per};
}

int64_t Flops(const ConvGeom& g) {
  return 2 * g.batch * g.out_h * g.out_w * g.out_c * g.filter_h * g.filter_w * g.in_c;
}

bool Supported(const ConvGeom& g) {
  return PadEnd(g.in_h, g.out_h, g.filter_h, g.stride_h, g.dilation_h, g.pad_top) >= 0 &&
         PadEnd(g.in_w, g.out_w, g.filter_w, g.stride_w, g.dilation_w, g.pad_left) >= 0;
}

// Every entry the slices need, or false when oneDNN cannot build one.
bool Prepare(const ConvGeom& g, Kind kind, const Slices& s, std::shared_ptr<Entry>* full,
             std::shared_ptr<Entry>* last) {
  try {
    *full = Lookup(g, kind, s.per);
    const int64_t rest = g.batch - s.per * (s.parts - 1);
    *last = rest == s.per ? *full : Lookup(g, kind, rest);
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

bool OneDnnAvailable() { return true; }

// Forward and backward-data differ only in direction: forward reads x (the
// primitive's src) and writes y (dst); backward-data reads dy (dst) and writes
// dx (src). Both take the weights, reordered once into the primitive's layout.
static bool ThroughWeights(const ConvGeom& g, Kind kind, const float* in, const float* w, float* out,
                    const ParallelHooks& hooks) {
  if (!Supported(g)) return false;
  const Slices s = SliceBatch(g, hooks, Flops(g));
  std::shared_ptr<Entry> full, last;
  if (!Prepare(g, kind, s, &full, &last)) return false;
  // The slice of another batch size may have chosen another weights layout.
  std::vector<float> wp, wp_last;
  ReorderWeightsIn(full.get(), w, wp);
  const bool own_last = !(last->weights == full->weights);
  if (own_last) ReorderWeightsIn(last.get(), w, wp_last);
  const bool forward = kind == kForward;
  const int64_t x_image = g.in_h * g.in_w * g.in_c;
  const int64_t y_image = g.out_h * g.out_w * g.out_c;
  const int64_t in_image = forward ? x_image : y_image;
  const int64_t out_image = forward ? y_image : x_image;
  hooks.run(s.parts, [&](int p) {
    Entry* e = (p == s.parts - 1 ? last : full).get();
    const int64_t b0 = p * s.per;
    memory in_mem(forward ? e->src : e->dst, Engine(), const_cast<float*>(in + b0 * in_image));
    memory out_mem(forward ? e->dst : e->src, Engine(), out + b0 * out_image);
    Execute(e, {{forward ? DNNL_ARG_SRC : DNNL_ARG_DIFF_DST, in_mem},
                {DNNL_ARG_WEIGHTS, memory(e->weights, Engine(), (own_last && e == last.get() ? wp_last : wp).data())},
                {forward ? DNNL_ARG_DST : DNNL_ARG_DIFF_SRC, out_mem}});
  });
  return true;
}

bool OneDnnConv2D(const ConvGeom& g, const float* x, const float* w, float* y, const ParallelHooks& hooks) {
  return ThroughWeights(g, kForward, x, w, y, hooks);
}

bool OneDnnConv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx,
                               const ParallelHooks& hooks) {
  return ThroughWeights(g, kBackwardData, dy, w, dx, hooks);
}

bool OneDnnConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw,
                                const ParallelHooks& hooks) {
  if (!Supported(g)) return false;
  const Slices s = SliceBatch(g, hooks, Flops(g));
  std::shared_ptr<Entry> full, last;
  if (!Prepare(g, kBackwardWeights, s, &full, &last)) return false;
  const int64_t x_image = g.in_h * g.in_w * g.in_c;
  const int64_t y_image = g.out_h * g.out_w * g.out_c;
  const int64_t size = g.filter_h * g.filter_w * g.in_c * g.out_c;
  // Each slice's filter gradient in [KH, KW, Cin, Cout]; slice 0 writes dw itself.
  std::vector<std::vector<float>> partial(static_cast<size_t>(s.parts - 1), std::vector<float>(size));
  hooks.run(s.parts, [&](int p) {
    Entry* e = (p == s.parts - 1 ? last : full).get();
    const int64_t b0 = p * s.per;
    std::vector<float> blocked(e->weights.get_size() / sizeof(float) + 1);
    memory diff_w(e->weights, Engine(), blocked.data());
    Execute(e, {{DNNL_ARG_SRC, memory(e->src, Engine(), const_cast<float*>(x + b0 * x_image))},
                {DNNL_ARG_DIFF_DST, memory(e->dst, Engine(), const_cast<float*>(dy + b0 * y_image))},
                {DNNL_ARG_DIFF_WEIGHTS, diff_w}});
    memory user(e->weights_user, Engine(), p == 0 ? dw : partial[static_cast<size_t>(p - 1)].data());
    SingleThreaded();
    dnnl::reorder(diff_w, user).execute(ThreadStream(), diff_w, user);
    ThreadStream().wait();
  });
  for (const auto& part : partial) {
    for (int64_t i = 0; i < size; ++i) dw[i] += part[static_cast<size_t>(i)];
  }
  return true;
}

const char* OneDnnVersion() {
  static std::string text = [] {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return text.c_str();
}

}  // namespace moprune

#else  // !MOPRUNE_WITH_ONEDNN

namespace moprune {

bool OneDnnAvailable() { return false; }
bool OneDnnConv2D(const ConvGeom&, const float*, const float*, float*, const ParallelHooks&) { return false; }
bool OneDnnConv2DBackpropInput(const ConvGeom&, const float*, const float*, float*, const ParallelHooks&) {
  return false;
}
bool OneDnnConv2DBackpropFilter(const ConvGeom&, const float*, const float*, float*, const ParallelHooks&) {
  return false;
}
const char* OneDnnVersion() { return nullptr; }

}  // namespace moprune

#endif
