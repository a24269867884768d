// oneDNN convolutions (see conv_onednn.cc). Each returns false, having
// written nothing, when the addon was built without oneDNN or oneDNN has no
// primitive for the geometry; callers then use the im2col + sgemm kernels.
#pragma once

#include <cstdint>
#include <functional>

#include "kernels.h"

namespace moprune {

// How the oneDNN code reaches kernels.cc's thread pool without depending on it.
struct ParallelHooks {
  // Number of parts worth running for `flops` of work over `units` independent units.
  std::function<int(int64_t flops, int64_t units)> parts;
  // Runs fn(part) for every part in [0, parts) on the pool.
  std::function<void(int parts, const std::function<void(int)>& fn)> run;
};

bool OneDnnAvailable();
// oneDNN's version ("2.6.3"), or null without oneDNN.
const char* OneDnnVersion();
bool OneDnnConv2D(const ConvGeom& g, const float* x, const float* w, float* y, const ParallelHooks& hooks);
bool OneDnnConv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx,
                               const ParallelHooks& hooks);
bool OneDnnConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw,
                                const ParallelHooks& hooks);

}  // namespace moprune
