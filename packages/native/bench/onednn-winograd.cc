// Probe: oneDNN 2.6's Winograd F(4×4, 3×3) convolutions (`jit_wino_4x3:avx512_core`) against the direct
// kernels the addon uses, on ResNet-20's three 3×3 stride-1 shapes — forward, input gradient and filter
// gradient, one OpenMP thread (as the addon runs oneDNN), batch N (64 = one thread's slice of 128).
// Winograd needs the blocked nChw16c layout, so its forward and input gradient include the reorders from
// and to the NHWC tensors the addon holds; its filter gradient reuses the blocked copies (the reorders it
// would need are not counted — the figure favours Winograd). Results: README, "Winograd convolutions".
//
//   g++ -O2 -fopenmp packages/native/bench/onednn-winograd.cc -o /tmp/wino -ldnnl && /tmp/wino 64
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dnnl.hpp>
using namespace dnnl;
using tag = memory::format_tag;

static engine eng(engine::kind::cpu, 0);

static double Now() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Times {
  double fwd, bwd_data, bwd_weights;
  double Total() const { return fwd + bwd_data + bwd_weights; }
};

// Best of 12 timed runs (after 3 warm-ups) of one 3×3, stride-1, pad-1 convolution N×C×H×H → N×C×H×H.
// `blocked`: the primitives work on nChw16c copies, reordered from/to the NHWC tensors inside the timing.
static Times Run(int n, int c, int h, algorithm algo, bool blocked) {
  const memory::dims s{n, c, h, h}, w{c, c, 3, 3}, st{1, 1}, dl{0, 0}, p{1, 1};
  const auto user = memory::desc(s, memory::data_type::f32, tag::nhwc);
  const auto md = memory::desc(s, memory::data_type::f32, blocked ? tag::nChw16c : tag::nhwc);
  const auto w_any = memory::desc(w, memory::data_type::f32, tag::any);
  stream strm(eng);
  const convolution_forward::primitive_desc fpd(
      convolution_forward::desc(prop_kind::forward_training, algo, md, w_any, md, st, dl, p, p), eng);
  const convolution_backward_data::primitive_desc bdpd(
      convolution_backward_data::desc(algo, md, w_any, md, st, dl, p, p), eng, fpd);
  const convolution_backward_weights::primitive_desc bwpd(
      convolution_backward_weights::desc(algo, md, w_any, md, st, dl, p, p), eng, fpd);
  std::printf("  %-7s %s: fwd %s, bwd_data %s, bwd_weights %s\n", algo == algorithm::convolution_winograd ? "wino" : "direct",
              blocked ? "nChw16c" : "nhwc   ", fpd.impl_info_str(), bdpd.impl_info_str(), bwpd.impl_info_str());
  memory x_user(user, eng), y_user(user, eng), dy_user(user, eng), dx_user(user, eng);
  memory x(md, eng), y(md, eng), dy(md, eng), dx(md, eng);
  memory wf(fpd.weights_desc(), eng), wd(bdpd.weights_desc(), eng), dw(bwpd.diff_weights_desc(), eng);
  auto* xp = static_cast<float*>(x_user.get_data_handle());
  auto* gp = static_cast<float*>(dy_user.get_data_handle());
  for (size_t i = 0; i < user.get_size() / sizeof(float); i++) {
    xp[i] = static_cast<float>(i % 7) * 0.1f;
    gp[i] = static_cast<float>(i % 5) * 0.1f;
  }
  const convolution_forward fwd(fpd);
  const convolution_backward_data bwd_data(bdpd);
  const convolution_backward_weights bwd_weights(bwpd);
  Times best{1e9, 1e9, 1e9};
  for (int it = 0; it < 15; it++) {
    const double t0 = Now();
    if (blocked) reorder(x_user, x).execute(strm, x_user, x);
    fwd.execute(strm, {{DNNL_ARG_SRC, blocked ? x : x_user}, {DNNL_ARG_WEIGHTS, wf}, {DNNL_ARG_DST, blocked ? y : y_user}});
    if (blocked) reorder(y, y_user).execute(strm, y, y_user);
    strm.wait();
    const double t1 = Now();
    if (blocked) reorder(dy_user, dy).execute(strm, dy_user, dy);
    bwd_data.execute(strm, {{DNNL_ARG_DIFF_DST, blocked ? dy : dy_user},
                            {DNNL_ARG_WEIGHTS, wd},
                            {DNNL_ARG_DIFF_SRC, blocked ? dx : dx_user}});
    if (blocked) reorder(dx, dx_user).execute(strm, dx, dx_user);
    strm.wait();
    const double t2 = Now();
    // Reuses the blocked x and dy of the two passes above: no reorder counted here.
    bwd_weights.execute(strm, {{DNNL_ARG_SRC, blocked ? x : x_user},
                               {DNNL_ARG_DIFF_DST, blocked ? dy : dy_user},
                               {DNNL_ARG_DIFF_WEIGHTS, dw}});
    strm.wait();
    const double t3 = Now();
    if (it >= 3) best = {std::min(best.fwd, t1 - t0), std::min(best.bwd_data, t2 - t1), std::min(best.bwd_weights, t3 - t2)};
  }
  return best;
}

int main(int argc, char** argv) {
  omp_set_num_threads(1);
  const int n = argc > 1 ? std::atoi(argv[1]) : 64;
  const int shapes[3][2] = {{16, 32}, {32, 16}, {64, 8}};  // ResNet-20's stages: channels, spatial size
  for (int round = 0; round < 2; round++) {
    for (const auto& sh : shapes) {
      std::printf("N=%d C=%d H=%d\n", n, sh[0], sh[1]);
      const Times d = Run(n, sh[0], sh[1], algorithm::convolution_direct, false);
      std::printf("    direct, nhwc:   fwd %.2f  bwd_data %.2f  bwd_weights %.2f  total %.2f ms\n", d.fwd, d.bwd_data,
                  d.bwd_weights, d.Total());
      try {
        const Times w = Run(n, sh[0], sh[1], algorithm::convolution_winograd, true);
        std::printf("    wino, nChw16c:  fwd %.2f  bwd_data %.2f  bwd_weights %.2f  total %.2f ms  (%.2f× direct)\n", w.fwd,
                    w.bwd_data, w.bwd_weights, w.Total(), w.Total() / d.Total());
      } catch (const dnnl::error& e) {
        std::printf("    wino: not available (%s)\n", e.what());
      }
    }
  }
}
