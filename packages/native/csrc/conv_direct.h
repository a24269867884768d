// Direct convolution for one input channel, stride 1, dilation 1 (a network's
// first layer on grey images, e.g. LeNet-5's conv1), forward and filter
// gradient, vectorized with AVX-512 or AVX2 + FMA chosen at run time (see
// conv_direct.cc). The input gradient of such a layer is rarely needed and
// stays on the general kernels.
#pragma once

#include <cstdint>

#include "conv_onednn.h"  // ParallelHooks
#include "kernels.h"

namespace moprune {

// The instruction set the direct kernels use on this CPU: "avx512", "avx2",
// or null when the CPU has neither (the general kernels run instead).
const char* DirectConvIsa();
// Chooses the kernels: "auto" (the best this CPU has), "avx512", "avx2" or
// "off". False, changing nothing, for an instruction set the CPU lacks or an
// unknown name. For benchmarks and tests (to compare against oneDNN and to
// run the AVX2 variant on an AVX-512 machine).
bool SetDirectConvIsa(const char* name);
// True when the direct kernels handle g: in_c == 1, unit stride and dilation,
// a CPU with AVX2 + FMA, and per-image scratch within bounds.
bool DirectConvApplies(const ConvGeom& g);
// Both return false, having written nothing, when DirectConvApplies(g) is false.
bool DirectConv2D(const ConvGeom& g, const float* x, const float* w, float* y, const ParallelHooks& hooks);
bool DirectConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw,
                                const ParallelHooks& hooks);

}  // namespace moprune
