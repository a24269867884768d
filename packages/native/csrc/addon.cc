// Node-API surface of @moprune/native. Every entry point checks its arguments
// completely (types, integer ranges, buffer lengths) before any kernel runs, so
// a bad call from JavaScript ends in a thrown JS error, never in a crash.
#include <napi.h>

#include <cblas.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>
#include <limits>
#include <cmath>
#include <string>
#include <vector>

#include "conv_direct.h"
#include "conv_onednn.h"
#include "kernels.h"

namespace {

using moprune::ConvGeom;

// sgemm takes 32-bit sizes; every size and leading dimension must fit.
constexpr int64_t kMaxDim = std::numeric_limits<int>::max();

[[noreturn]] void Fail(const Napi::Env& env, const std::string& kernel, const std::string& what) {
  throw Napi::RangeError::New(env, "moprune native " + kernel + ": " + what);
}

// Runs a kernel, turning a C++ exception (oneDNN's errors, std::bad_alloc)
// into a JS error: node-addon-api would otherwise let it terminate the process.
template <typename F>
void Guard(const Napi::Env& env, const std::string& kernel, F fn) {
  try {
    fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    Fail(env, kernel, std::string("failed: ") + e.what());
  }
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name,
               int64_t min) {
  if (i >= info.Length() || !info[i].IsNumber()) Fail(info.Env(), kernel, std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= static_cast<double>(min) && v <= static_cast<double>(kMaxDim)) || v != static_cast<double>(static_cast<int64_t>(v))) {
    Fail(info.Env(), kernel, std::string(name) + " must be an integer in [" + std::to_string(min) + ", 2^31), got " +
                                 info[i].ToString().Utf8Value());
  }
  return static_cast<int64_t>(v);
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) Fail(info.Env(), kernel, std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Product of non-negative sizes; fails instead of overflowing.
int64_t Product(const Napi::Env& env, const std::string& kernel, std::initializer_list<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d != 0 && p > std::numeric_limits<int64_t>::max() / 4 / d) Fail(env, kernel, "tensor too large");
    p *= d;
  }
  return p;
}

float* FloatArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name,
                int64_t expected, bool nullable = false) {
  if (nullable && i < info.Length() && (info[i].IsNull() || info[i].IsUndefined())) return nullptr;
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Fail(info.Env(), kernel, std::string(name) + " must be a Float32Array");
  }
  auto arr = info[i].As<Napi::Float32Array>();
  if (static_cast<int64_t>(arr.ElementLength()) != expected) {
    Fail(info.Env(), kernel,
         std::string(name) + " has " + std::to_string(arr.ElementLength()) + " elements, expected " +
             std::to_string(expected));
  }
  return arr.Data();
}

// Reads the 15 geometry integers packed in an array at info[i].
ConvGeom GeomArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel) {
  if (i >= info.Length() || !info[i].IsArray()) Fail(info.Env(), kernel, "geometry must be an array");
  auto arr = info[i].As<Napi::Array>();
  if (arr.Length() != 15) Fail(info.Env(), kernel, "geometry must have 15 entries");
  int64_t v[15];
  static const char* names[15] = {"batch",    "inHeight",  "inWidth",     "inChannels",  "filterHeight",
                                  "filterWidth", "outChannels", "outHeight", "outWidth",    "strideHeight",
                                  "strideWidth", "dilationHeight", "dilationWidth", "padTop", "padLeft"};
  for (uint32_t j = 0; j < 15; ++j) {
    Napi::Value e = arr.Get(j);
    if (!e.IsNumber()) Fail(info.Env(), kernel, std::string(names[j]) + " must be a number");
    const double d = e.As<Napi::Number>().DoubleValue();
    const double min = j >= 13 ? 0.0 : 1.0;
    if (!(d >= min && d <= static_cast<double>(kMaxDim)) || d != static_cast<double>(static_cast<int64_t>(d))) {
      Fail(info.Env(), kernel, std::string(names[j]) + " must be an integer >= " + std::to_string(static_cast<int>(min)) +
                                   ", got " + e.ToString().Utf8Value());
    }
    v[j] = static_cast<int64_t>(d);
  }
  ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  // sgemm's M, N, K and leading dimensions must fit in an int.
  const int64_t k = Product(info.Env(), kernel, {g.filter_h, g.filter_w, g.in_c});
  const int64_t rows = Product(info.Env(), kernel, {g.batch, g.out_h, g.out_w});
  if (k > kMaxDim || rows > kMaxDim) Fail(info.Env(), kernel, "im2col matrix too large for 32-bit BLAS sizes");
  return g;
}

std::string GeomText(const ConvGeom& g) {
  return "x [" + std::to_string(g.batch) + "," + std::to_string(g.in_h) + "," + std::to_string(g.in_w) + "," +
         std::to_string(g.in_c) + "], filter [" + std::to_string(g.filter_h) + "," + std::to_string(g.filter_w) +
         ",*," + std::to_string(g.out_c) + "], out [" + std::to_string(g.out_h) + "," + std::to_string(g.out_w) +
         "]";
}

int64_t XSize(const Napi::Env& env, const std::string& kernel, const ConvGeom& g) {
  return Product(env, kernel, {g.batch, g.in_h, g.in_w, g.in_c});
}
int64_t YSize(const Napi::Env& env, const std::string& kernel, const ConvGeom& g) {
  return Product(env, kernel, {g.batch, g.out_h, g.out_w, g.out_c});
}
int64_t WSize(const Napi::Env& env, const std::string& kernel, const ConvGeom& g) {
  return Product(env, kernel, {g.filter_h, g.filter_w, g.in_c, g.out_c});
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  moprune::SetThreads(static_cast<int>(IntArg(info, 0, "setThreads", "threads", 1)));
  return info.Env().Undefined();
}

// Every tfjs op returns a fresh array. With glibc's default, arrays above the
// (dynamic) mmap threshold are mmap'ed and unmapped again, and freed heap tops
// are trimmed, so each op page-faults its whole output in again: that was
// 80% of a relu on a LeNet-5 activation. Keeping freed memory for reuse makes
// the next same-sized array cost nothing but its fill. Returns false where
// the C library has no such knobs.
Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  // 32 MiB is glibc's ceiling for the mmap threshold on 64-bit.
  const bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("library", "openblas");
  o.Set("config", openblas_get_config());
  o.Set("corename", openblas_get_corename());
  o.Set("threads", moprune::Threads());
  o.Set("poolBackoffs", static_cast<double>(moprune::PoolBackoffs()));
  o.Set("poolBlocking", moprune::PoolBlocking());
  o.Set("convolution", moprune::ConvImplementation());
  const char* onednn = moprune::OneDnnVersion();
  o.Set("onednn", onednn == nullptr ? info.Env().Null() : Napi::String::New(info.Env(), onednn));
  const char* direct = moprune::DirectConvIsa();
  o.Set("directConvolution", direct == nullptr ? info.Env().Null() : Napi::String::New(info.Env(), direct));
  return o;
}

// setConvImplementation('onednn' | 'im2col'): false when oneDNN is not built in.
Napi::Value SetConvImplementation(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) Fail(info.Env(), "setConvImplementation", "name must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name != "onednn" && name != "im2col") {
    Fail(info.Env(), "setConvImplementation", "name must be 'onednn' or 'im2col', got '" + name + "'");
  }
  return Napi::Boolean::New(info.Env(), moprune::SetConvImplementation(name == "onednn"));
}

// setDirectConvolution('auto' | 'avx512' | 'avx2' | 'off'): the one-input-channel
// direct kernels (conv_direct.cc); false when the CPU lacks that instruction set.
Napi::Value SetDirectConvolution(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) Fail(info.Env(), "setDirectConvolution", "mode must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name != "auto" && name != "avx512" && name != "avx2" && name != "off") {
    Fail(info.Env(), "setDirectConvolution", "mode must be 'auto', 'avx512', 'avx2' or 'off', got '" + name + "'");
  }
  return Napi::Boolean::New(info.Env(), moprune::SetDirectConvIsa(name.c_str()));
}

Napi::Value MatMul(const Napi::CallbackInfo& info) {
  const std::string kernel = "BatchMatMul";
  const int64_t batch_a = IntArg(info, 3, kernel, "batchA", 1);
  const int64_t batch_b = IntArg(info, 4, kernel, "batchB", 1);
  const int64_t m = IntArg(info, 5, kernel, "m", 1);
  const int64_t n = IntArg(info, 6, kernel, "n", 1);
  const int64_t k = IntArg(info, 7, kernel, "k", 1);
  const bool trans_a = BoolArg(info, 8, kernel, "transposeA");
  const bool trans_b = BoolArg(info, 9, kernel, "transposeB");
  if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
    Fail(info.Env(), kernel, "batch sizes " + std::to_string(batch_a) + " and " + std::to_string(batch_b) + " do not broadcast");
  }
  const int64_t batch = batch_a > batch_b ? batch_a : batch_b;
  if (Product(info.Env(), kernel, {batch_a, m}) > kMaxDim) Fail(info.Env(), kernel, "too many rows for 32-bit BLAS sizes");
  const float* a = FloatArg(info, 0, kernel, "a", Product(info.Env(), kernel, {batch_a, m, k}));
  const float* b = FloatArg(info, 1, kernel, "b", Product(info.Env(), kernel, {batch_b, k, n}));
  float* out = FloatArg(info, 2, kernel, "out", Product(info.Env(), kernel, {batch, m, n}));
  moprune::MatMul(a, b, out, batch_a, batch_b, m, n, k, trans_a, trans_b);
  return info.Env().Undefined();
}

// Convolution output size must agree with the geometry, or the kernel would
// read past the input's edge; im2col bounds-checks every read, so only the
// buffer lengths need checking here.
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  const std::string kernel = "Conv2D";
  const ConvGeom g = GeomArg(info, 3, kernel);
  const auto& env = info.Env();
  const float* x = FloatArg(info, 0, kernel + " (" + GeomText(g) + ")", "x", XSize(env, kernel, g));
  const float* w = FloatArg(info, 1, kernel + " (" + GeomText(g) + ")", "filter", WSize(env, kernel, g));
  float* y = FloatArg(info, 2, kernel + " (" + GeomText(g) + ")", "out", YSize(env, kernel, g));
  Guard(env, kernel, [&] { moprune::Conv2D(g, x, w, y); });
  return env.Undefined();
}

Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  const std::string kernel = "Conv2DBackpropInput";
  const ConvGeom g = GeomArg(info, 3, kernel);
  const auto& env = info.Env();
  const float* dy = FloatArg(info, 0, kernel + " (" + GeomText(g) + ")", "dy", YSize(env, kernel, g));
  const float* w = FloatArg(info, 1, kernel + " (" + GeomText(g) + ")", "filter", WSize(env, kernel, g));
  float* dx = FloatArg(info, 2, kernel + " (" + GeomText(g) + ")", "out", XSize(env, kernel, g));
  Guard(env, kernel, [&] { moprune::Conv2DBackpropInput(g, dy, w, dx); });
  return env.Undefined();
}

Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  const std::string kernel = "Conv2DBackpropFilter";
  const ConvGeom g = GeomArg(info, 3, kernel);
  const auto& env = info.Env();
  const float* x = FloatArg(info, 0, kernel + " (" + GeomText(g) + ")", "x", XSize(env, kernel, g));
  const float* dy = FloatArg(info, 1, kernel + " (" + GeomText(g) + ")", "dy", YSize(env, kernel, g));
  float* dw = FloatArg(info, 2, kernel + " (" + GeomText(g) + ")", "out", WSize(env, kernel, g));
  Guard(env, kernel, [&] { moprune::Conv2DBackpropFilter(g, x, dy, dw); });
  return env.Undefined();
}

Napi::Value BiasActivation(const Napi::CallbackInfo& info) {
  const std::string kernel = "BiasActivation";
  const int64_t channels = IntArg(info, 2, kernel, "channels", 1);
  const int64_t activation = IntArg(info, 3, kernel, "activation", 0);
  if (activation > 2) Fail(info.Env(), kernel, "activation code must be 0, 1 or 2");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Fail(info.Env(), kernel, "y must be a Float32Array");
  }
  auto y = info[0].As<Napi::Float32Array>();
  const int64_t size = static_cast<int64_t>(y.ElementLength());
  if (size % channels != 0) Fail(info.Env(), kernel, "y's size is not a multiple of the channel count");
  const float* bias = FloatArg(info, 1, kernel, "bias", channels, true);
  moprune::BiasActivation(y.Data(), size, bias, channels, static_cast<int>(activation));
  return info.Env().Undefined();
}

Napi::Value PoolCall(const Napi::CallbackInfo& info, const std::string& kernel) {
  // Pool geometry: the window has no weights, so in and out channels agree.
  const bool grad = kernel == "MaxPoolGrad" || kernel == "AvgPoolGrad";
  const size_t geom_index = kernel == "MaxPoolGrad" ? 3 : 2;
  const ConvGeom g = GeomArg(info, geom_index, kernel);
  const auto& env = info.Env();
  const std::string where = kernel + " (" + GeomText(g) + ")";
  if (g.in_c != g.out_c) Fail(env, where, "pooling needs equal input and output channels");
  const int64_t xs = XSize(env, kernel, g);
  const int64_t ys = YSize(env, kernel, g);
  if (kernel == "MaxPool") {
    moprune::MaxPool(g, FloatArg(info, 0, where, "x", xs), FloatArg(info, 1, where, "out", ys));
  } else if (kernel == "AvgPool") {
    moprune::AvgPool(g, FloatArg(info, 0, where, "x", xs), FloatArg(info, 1, where, "out", ys));
  } else if (kernel == "MaxPoolGrad") {
    moprune::MaxPoolGrad(g, FloatArg(info, 0, where, "x", xs), FloatArg(info, 1, where, "dy", ys),
                         FloatArg(info, 2, where, "out", xs));
  } else if (grad) {
    moprune::AvgPoolGrad(g, FloatArg(info, 0, where, "dy", ys), FloatArg(info, 1, where, "out", xs));
  }
  return env.Undefined();
}

Napi::Float32Array AnyFloats(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Fail(info.Env(), kernel, std::string(name) + " must be a Float32Array");
  }
  return info[i].As<Napi::Float32Array>();
}

// binary(op, a, b, out): out's length must be a multiple of both inputs' lengths.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  static const char* names[4] = {"Add", "Sub", "Multiply", "RealDiv"};
  const int64_t op = IntArg(info, 0, "binary", "op", 0);
  if (op > 3) Fail(info.Env(), "binary", "op must be 0..3");
  const std::string kernel = names[op];
  auto a = AnyFloats(info, 1, kernel, "a");
  auto b = AnyFloats(info, 2, kernel, "b");
  auto out = AnyFloats(info, 3, kernel, "out");
  const int64_t as = static_cast<int64_t>(a.ElementLength());
  const int64_t bs = static_cast<int64_t>(b.ElementLength());
  const int64_t os = static_cast<int64_t>(out.ElementLength());
  if (as == 0 || bs == 0 || os % as != 0 || os % bs != 0 || os != (as > bs ? as : bs)) {
    Fail(info.Env(), kernel,
         "sizes " + std::to_string(as) + " and " + std::to_string(bs) + " do not broadcast to " + std::to_string(os));
  }
  moprune::Binary(static_cast<int>(op), a.Data(), as, b.Data(), bs, out.Data(), os);
  return info.Env().Undefined();
}

std::vector<int64_t> IntsArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name,
                             size_t rank, int64_t min);

// binaryBroadcast(op, a, aShape, b, bShape, out, outShape): shapes of equal
// rank; every a/b axis equals the output's or is 1.
Napi::Value BinaryBroadcast(const Napi::CallbackInfo& info) {
  static const char* names[4] = {"Add", "Sub", "Multiply", "RealDiv"};
  const int64_t op = IntArg(info, 0, "binary", "op", 0);
  if (op > 3) Fail(info.Env(), "binary", "op must be 0..3");
  const std::string kernel = names[op];
  if (!info[6].IsArray()) Fail(info.Env(), kernel, "outShape must be an array");
  const size_t rank = info[6].As<Napi::Array>().Length();
  if (rank < 1 || rank > 8) Fail(info.Env(), kernel, "rank must be 1..8");
  const auto a_shape = IntsArg(info, 2, kernel, "aShape", rank, 1);
  const auto b_shape = IntsArg(info, 4, kernel, "bShape", rank, 1);
  const auto shape = IntsArg(info, 6, kernel, "outShape", rank, 1);
  int64_t as[8], bs[8];
  int64_t a_size = 1, b_size = 1, out_size = 1;
  for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
    if ((a_shape[d] != shape[d] && a_shape[d] != 1) || (b_shape[d] != shape[d] && b_shape[d] != 1)) {
      Fail(info.Env(), kernel, "shapes do not broadcast on axis " + std::to_string(d));
    }
    as[d] = a_shape[d] == 1 ? 0 : a_size;
    bs[d] = b_shape[d] == 1 ? 0 : b_size;
    a_size = Product(info.Env(), kernel, {a_size, a_shape[d]});
    b_size = Product(info.Env(), kernel, {b_size, b_shape[d]});
    out_size = Product(info.Env(), kernel, {out_size, shape[d]});
  }
  const float* a = FloatArg(info, 1, kernel, "a", a_size);
  const float* b = FloatArg(info, 3, kernel, "b", b_size);
  float* out = FloatArg(info, 5, kernel, "out", out_size);
  moprune::BinaryStrided(static_cast<int>(op), a, as, b, bs, out, shape.data(), static_cast<int>(rank));
  return info.Env().Undefined();
}

// channelAffine(x, out, center, scale, shift)
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  const std::string kernel = "FusedBatchNorm";
  auto x = AnyFloats(info, 0, kernel, "x");
  auto scale = AnyFloats(info, 3, kernel, "scale");
  const int64_t channels = static_cast<int64_t>(scale.ElementLength());
  const int64_t size = static_cast<int64_t>(x.ElementLength());
  if (channels == 0 || size % channels != 0) Fail(info.Env(), kernel, "x's size is not a multiple of the channel count");
  float* out = FloatArg(info, 1, kernel, "out", size);
  const float* center = FloatArg(info, 2, kernel, "center", channels);
  const float* shift = FloatArg(info, 4, kernel, "shift", channels);
  moprune::ChannelAffine(x.Data(), out, size, center, scale.Data(), shift, channels);
  return info.Env().Undefined();
}

float EpsilonArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel) {
  const double eps = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : -1.0;
  if (!(eps > 0.0) || !std::isfinite(eps)) Fail(info.Env(), kernel, "epsilon must be a finite number > 0");
  return static_cast<float>(eps);
}

// Channels of a batch-norm call: scale's length, which must divide x's size.
int64_t BatchNormChannels(const Napi::CallbackInfo& info, const std::string& kernel, int64_t size, int64_t channels) {
  if (channels == 0 || size % channels != 0) {
    Fail(info.Env(), kernel,
         "x's size " + std::to_string(size) + " is not a multiple of the channel count " + std::to_string(channels));
  }
  return channels;
}

// batchNormTraining(x, scale, offset, epsilon, relu, y, mean, variance)
Napi::Value BatchNormTraining(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneBatchNormTraining";
  auto x = AnyFloats(info, 0, kernel, "x");
  auto scale = AnyFloats(info, 1, kernel, "scale");
  const int64_t size = static_cast<int64_t>(x.ElementLength());
  const int64_t channels = BatchNormChannels(info, kernel, size, static_cast<int64_t>(scale.ElementLength()));
  const float* offset = FloatArg(info, 2, kernel, "offset", channels);
  const float eps = EpsilonArg(info, 3, kernel);
  const bool relu = BoolArg(info, 4, kernel, "relu");
  float* y = FloatArg(info, 5, kernel, "y", size);
  float* mean = FloatArg(info, 6, kernel, "mean", channels);
  float* variance = FloatArg(info, 7, kernel, "variance", channels);
  Guard(info.Env(), kernel, [&] {
    moprune::BatchNormTraining(x.Data(), scale.Data(), offset, y, mean, variance, size / channels, channels, eps,
                               relu);
  });
  return info.Env().Undefined();
}

// batchNormTrainingGrad(dy, x, scale, offset, mean, variance, epsilon, relu, dx, dscale, doffset)
Napi::Value BatchNormTrainingGrad(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneBatchNormTrainingGrad";
  auto x = AnyFloats(info, 1, kernel, "x");
  auto scale = AnyFloats(info, 2, kernel, "scale");
  const int64_t size = static_cast<int64_t>(x.ElementLength());
  const int64_t channels = BatchNormChannels(info, kernel, size, static_cast<int64_t>(scale.ElementLength()));
  const float* dy = FloatArg(info, 0, kernel, "dy", size);
  const float* offset = FloatArg(info, 3, kernel, "offset", channels);
  const float* mean = FloatArg(info, 4, kernel, "mean", channels);
  const float* variance = FloatArg(info, 5, kernel, "variance", channels);
  const float eps = EpsilonArg(info, 6, kernel);
  const bool relu = BoolArg(info, 7, kernel, "relu");
  float* dx = FloatArg(info, 8, kernel, "dx", size);
  float* dscale = FloatArg(info, 9, kernel, "dscale", channels);
  float* doffset = FloatArg(info, 10, kernel, "doffset", channels);
  Guard(info.Env(), kernel, [&] {
    moprune::BatchNormTrainingGrad(dy, x.Data(), scale.Data(), offset, mean, variance, dx, dscale, doffset,
                                   size / channels, channels, eps, relu);
  });
  return info.Env().Undefined();
}

// sumSquares(x) -> the sum of x[i]² in double
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  auto x = AnyFloats(info, 0, "MopruneSumOfSquares", "x");
  return Napi::Number::New(info.Env(), moprune::SumSquares(x.Data(), static_cast<int64_t>(x.ElementLength())));
}

// sumAbs(x) -> the sum of |x[i]| in double
Napi::Value SumAbs(const Napi::CallbackInfo& info) {
  auto x = AnyFloats(info, 0, "MopruneSumOfAbs", "x");
  return Napi::Number::New(info.Env(), moprune::SumAbs(x.Data(), static_cast<int64_t>(x.ElementLength())));
}

// reluGrad(dy, x, out)
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneReluGrad";
  auto x = AnyFloats(info, 1, kernel, "x");
  const int64_t size = static_cast<int64_t>(x.ElementLength());
  const float* dy = FloatArg(info, 0, kernel, "dy", size);
  float* out = FloatArg(info, 2, kernel, "out", size);
  moprune::ReluGrad(dy, x.Data(), out, size);
  return info.Env().Undefined();
}

// gatherByteRows(src: Uint8Array, rows: Uint32Array, rowSize, lut: Float32Array, out: Float32Array)
Napi::Value GatherByteRows(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneGatherByteRows";
  const Napi::Env env = info.Env();
  auto typed = [&](size_t i, napi_typedarray_type type, const char* name, const char* what) {
    if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
      Fail(env, kernel, std::string(name) + " must be a " + what);
    }
    return info[i].As<Napi::TypedArray>();
  };
  auto src = typed(0, napi_uint8_array, "source", "Uint8Array").As<Napi::Uint8Array>();
  auto rows = typed(1, napi_uint32_array, "rows", "Uint32Array").As<Napi::Uint32Array>();
  const int64_t row_size = IntArg(info, 2, kernel, "rowSize", 1);
  auto lut = typed(3, napi_float32_array, "lut", "Float32Array").As<Napi::Float32Array>();
  const int64_t lut_size = static_cast<int64_t>(lut.ElementLength());
  if (lut_size < 256 || lut_size % 256 != 0) Fail(env, kernel, "lut must hold 256 entries per channel");
  const int64_t channels = lut_size / 256;
  if (row_size % channels != 0) Fail(env, kernel, "rowSize must be a multiple of the channel count");
  const int64_t src_size = static_cast<int64_t>(src.ElementLength());
  if (src_size % row_size != 0) Fail(env, kernel, "source must hold whole rows");
  const int64_t count = src_size / row_size;
  const int64_t n = static_cast<int64_t>(rows.ElementLength());
  for (int64_t k = 0; k < n; ++k) {
    if (static_cast<int64_t>(rows[k]) >= count) Fail(env, kernel, "row index " + std::to_string(rows[k]) + " out of range");
  }
  float* out = FloatArg(info, 4, kernel, "out", Product(env, kernel, {n, row_size}));
  moprune::GatherByteRows(src.Data(), rows.Data(), n, row_size, lut.Data(), channels, out);
  return env.Undefined();
}

// Reads a finite number argument as a float.
float FiniteArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name) {
  const double x = i < info.Length() && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(x)) Fail(info.Env(), kernel, std::string(name) + " must be a finite number");
  return static_cast<float>(x);
}

// sgdUpdate(w, g, b | null, wOut, bOut | null, lr, mu, style, nesterov); style 0 plain (no b), 1 PyTorch, 2 Keras
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneSgdUpdate";
  const Napi::Env env = info.Env();
  auto w = AnyFloats(info, 0, kernel, "value");
  const int64_t size = static_cast<int64_t>(w.ElementLength());
  const float* g = FloatArg(info, 1, kernel, "grad", size);
  float* w_out = FloatArg(info, 3, kernel, "valueOut", size);
  const float lr = FiniteArg(info, 5, kernel, "lr");
  const float mu = FiniteArg(info, 6, kernel, "momentum");
  const int64_t style = IntArg(info, 7, kernel, "style", 0);
  if (style > 2) Fail(env, kernel, "style must be 0, 1 or 2");
  const bool nesterov = BoolArg(info, 8, kernel, "nesterov");
  const float* b = nullptr;
  float* b_out = nullptr;
  if (style != 0) {
    b = FloatArg(info, 2, kernel, "momentum slot", size);
    b_out = FloatArg(info, 4, kernel, "momentumOut", size);
  }
  Guard(env, kernel, [&] { moprune::SgdUpdate(w.Data(), g, b, w_out, b_out, size, lr, mu, static_cast<int>(style), nesterov); });
  return env.Undefined();
}

// movingAverage(average, value, out, decay)
Napi::Value MovingAverage(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneMovingAverage";
  const Napi::Env env = info.Env();
  auto a = AnyFloats(info, 0, kernel, "average");
  const int64_t size = static_cast<int64_t>(a.ElementLength());
  const float* v = FloatArg(info, 1, kernel, "value", size);
  float* out = FloatArg(info, 2, kernel, "out", size);
  const float b = FiniteArg(info, 3, kernel, "decay");
  Guard(env, kernel, [&] { moprune::MovingAverage(a.Data(), v, out, size, b); });
  return env.Undefined();
}

// adamUpdate(w, g, m, v, wOut, mOut, vOut, b1, b2, eps, scale, bc1, bc2, corrected)
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneAdamUpdate";
  auto w = AnyFloats(info, 0, kernel, "value");
  const int64_t size = static_cast<int64_t>(w.ElementLength());
  const float* g = FloatArg(info, 1, kernel, "grad", size);
  const float* m = FloatArg(info, 2, kernel, "m", size);
  const float* v = FloatArg(info, 3, kernel, "v", size);
  float* w_out = FloatArg(info, 4, kernel, "valueOut", size);
  float* m_out = FloatArg(info, 5, kernel, "mOut", size);
  float* v_out = FloatArg(info, 6, kernel, "vOut", size);
  const float b1 = FiniteArg(info, 7, kernel, "beta1");
  const float b2 = FiniteArg(info, 8, kernel, "beta2");
  const float eps = FiniteArg(info, 9, kernel, "epsilon");
  const float scale = FiniteArg(info, 10, kernel, "scale");
  const float bc1 = FiniteArg(info, 11, kernel, "bc1");
  const float bc2 = FiniteArg(info, 12, kernel, "bc2");
  const bool corrected = BoolArg(info, 13, kernel, "corrected");
  Guard(info.Env(), kernel, [&] {
    moprune::AdamUpdate(w.Data(), g, m, v, w_out, m_out, v_out, size, b1, b2, eps, scale, bc1, bc2, corrected);
  });
  return info.Env().Undefined();
}

// The bias's channel count C, checked to divide the `size` values of `name` into rows.
int64_t BiasChannels(Napi::Env env, const std::string& kernel, const char* name, int64_t size,
                     const Napi::Float32Array& bias) {
  const int64_t channels = static_cast<int64_t>(bias.ElementLength());
  if (channels == 0 || size % channels != 0) {
    Fail(env, kernel,
         std::string(name) + "'s " + std::to_string(size) + " values are not rows of the bias's " +
             std::to_string(channels));
  }
  return channels;
}

// biasAddRelu(x, bias, out): out[i] = max(x[i] + bias[i % C], 0), C = bias's length.
Napi::Value BiasAddRelu(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneBiasAddRelu";
  auto x = AnyFloats(info, 0, kernel, "x");
  auto bias = AnyFloats(info, 1, kernel, "bias");
  const int64_t size = static_cast<int64_t>(x.ElementLength());
  const int64_t channels = BiasChannels(info.Env(), kernel, "x", size, bias);
  float* out = FloatArg(info, 2, kernel, "out", size);
  moprune::Binary(4, x.Data(), size, bias.Data(), channels, out, size);
  return info.Env().Undefined();
}

// biasAddReluGrad(dy, y, dx, dbias): dx = dy * step(y), dbias[c] = sum of dx's column c, C = dbias's length.
Napi::Value BiasAddReluGrad(const Napi::CallbackInfo& info) {
  const std::string kernel = "MopruneBiasAddReluGrad";
  auto y = AnyFloats(info, 1, kernel, "y");
  auto dbias = AnyFloats(info, 3, kernel, "dbias");
  const int64_t size = static_cast<int64_t>(y.ElementLength());
  const int64_t channels = BiasChannels(info.Env(), kernel, "y", size, dbias);
  const float* dy = FloatArg(info, 0, kernel, "dy", size);
  float* dx = FloatArg(info, 2, kernel, "dx", size);
  moprune::BiasAddReluGrad(dy, y.Data(), size / channels, channels, dx, dbias.Data());
  return info.Env().Undefined();
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int64_t op = IntArg(info, 0, "unary", "op", 0);
  if (op > 5) Fail(info.Env(), "unary", "op must be 0 (Relu), 1 (Step), 2 (Square), 3 (Abs), 4 (Sign) or 5 (Exp)");
  const char* names[] = {"Relu", "Step", "Square", "Abs", "Sign", "Exp"};
  const std::string kernel = names[op];
  auto x = AnyFloats(info, 1, kernel, "x");
  float* out = FloatArg(info, 2, kernel, "out", static_cast<int64_t>(x.ElementLength()));
  if (!info[3].IsNumber()) Fail(info.Env(), kernel, "alpha must be a number");
  const float alpha = info[3].As<Napi::Number>().FloatValue();
  moprune::Unary(static_cast<int>(op), x.Data(), out, static_cast<int64_t>(x.ElementLength()), alpha);
  return info.Env().Undefined();
}

// sumAxes(x, out, outer, mid, inner)
Napi::Value SumAxes(const Napi::CallbackInfo& info) {
  const std::string kernel = "Sum";
  const int64_t outer = IntArg(info, 2, kernel, "outer", 1);
  const int64_t mid = IntArg(info, 3, kernel, "mid", 1);
  const int64_t inner = IntArg(info, 4, kernel, "inner", 1);
  const float* x = FloatArg(info, 0, kernel, "x", Product(info.Env(), kernel, {outer, mid, inner}));
  float* out = FloatArg(info, 1, kernel, "out", Product(info.Env(), kernel, {outer, inner}));
  moprune::SumAxes(x, out, outer, mid, inner);
  return info.Env().Undefined();
}

std::vector<int64_t> IntsArg(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name,
                             size_t rank, int64_t min) {
  if (i >= info.Length() || !info[i].IsArray()) Fail(info.Env(), kernel, std::string(name) + " must be an array");
  auto arr = info[i].As<Napi::Array>();
  if (arr.Length() != rank) Fail(info.Env(), kernel, std::string(name) + " must have " + std::to_string(rank) + " entries");
  std::vector<int64_t> out(rank);
  for (uint32_t j = 0; j < rank; ++j) {
    Napi::Value e = arr.Get(j);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(d >= static_cast<double>(min) && d <= static_cast<double>(kMaxDim)) || d != static_cast<double>(static_cast<int64_t>(d))) {
      Fail(info.Env(), kernel, std::string(name) + "[" + std::to_string(j) + "] must be an integer >= " + std::to_string(min));
    }
    out[j] = static_cast<int64_t>(d);
  }
  return out;
}

// copyBox(kernel, src, srcShape, srcBegin, srcStep, dst, dstShape, dstBegin, box)
Napi::Value CopyBox(const Napi::CallbackInfo& info) {
  if (info.Length() < 9 || !info[0].IsString()) Fail(info.Env(), "copyBox", "expects 9 arguments, the first a kernel name");
  const std::string kernel = info[0].As<Napi::String>().Utf8Value();
  if (!info[2].IsArray()) Fail(info.Env(), kernel, "srcShape must be an array");
  const size_t rank = info[2].As<Napi::Array>().Length();
  if (rank > 8) Fail(info.Env(), kernel, "rank above 8");
  const auto src_shape = IntsArg(info, 2, kernel, "srcShape", rank, 0);
  const auto src_begin = IntsArg(info, 3, kernel, "srcBegin", rank, 0);
  const auto src_step = IntsArg(info, 4, kernel, "srcStep", rank, 1);
  const auto dst_shape = IntsArg(info, 6, kernel, "dstShape", rank, 0);
  const auto dst_begin = IntsArg(info, 7, kernel, "dstBegin", rank, 0);
  const auto box = IntsArg(info, 8, kernel, "box", rank, 0);
  int64_t src_size = 1, dst_size = 1;
  bool empty = false;
  for (size_t d = 0; d < rank; ++d) {
    src_size = Product(info.Env(), kernel, {src_size, src_shape[d]});
    dst_size = Product(info.Env(), kernel, {dst_size, dst_shape[d]});
    if (box[d] == 0) {
      empty = true;
      continue;
    }
    if (src_begin[d] + (box[d] - 1) * src_step[d] >= src_shape[d] || dst_begin[d] + box[d] > dst_shape[d]) {
      Fail(info.Env(), kernel, "box leaves the tensor on axis " + std::to_string(d));
    }
  }
  const float* src = FloatArg(info, 1, kernel, "src", src_size);
  float* dst = FloatArg(info, 5, kernel, "dst", dst_size);
  if (!empty) {
    moprune::CopyBox(static_cast<int>(rank), src, src_shape.data(), src_begin.data(), src_step.data(), dst,
                     dst_shape.data(), dst_begin.data(), box.data());
  }
  return info.Env().Undefined();
}

// broadcastTo(x, xShape, out, outShape): equal ranks, each x axis 1 or the output's.
Napi::Value BroadcastTo(const Napi::CallbackInfo& info) {
  const std::string kernel = "Tile";
  if (info.Length() < 4 || !info[3].IsArray()) Fail(info.Env(), kernel, "outShape must be an array");
  const size_t rank = info[3].As<Napi::Array>().Length();
  if (rank < 1 || rank > 8) Fail(info.Env(), kernel, "rank must be 1..8");
  const auto x_shape = IntsArg(info, 1, kernel, "xShape", rank, 0);
  const auto out_shape = IntsArg(info, 3, kernel, "outShape", rank, 0);
  int64_t x_size = 1, out_size = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (x_shape[d] != out_shape[d] && x_shape[d] != 1) {
      Fail(info.Env(), kernel, "x does not broadcast to the output on axis " + std::to_string(d));
    }
    x_size = Product(info.Env(), kernel, {x_size, x_shape[d]});
    out_size = Product(info.Env(), kernel, {out_size, out_shape[d]});
  }
  const float* x = FloatArg(info, 0, kernel, "x", x_size);
  float* out = FloatArg(info, 2, kernel, "out", out_size);
  if (out_size > 0) moprune::BroadcastTo(static_cast<int>(rank), x, x_shape.data(), out, out_shape.data());
  return info.Env().Undefined();
}

// transpose(x, shape, perm, out)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const std::string kernel = "Transpose";
  if (!info[1].IsArray()) Fail(info.Env(), kernel, "shape must be an array");
  const size_t rank = info[1].As<Napi::Array>().Length();
  if (rank > 8) Fail(info.Env(), kernel, "rank above 8");
  const auto shape = IntsArg(info, 1, kernel, "shape", rank, 0);
  const auto perm = IntsArg(info, 2, kernel, "perm", rank, 0);
  std::vector<bool> seen(rank, false);
  int64_t size = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (perm[d] >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(perm[d])]) {
      Fail(info.Env(), kernel, "perm is not a permutation of 0.." + std::to_string(rank - 1));
    }
    seen[static_cast<size_t>(perm[d])] = true;
    size = Product(info.Env(), kernel, {size, shape[d]});
  }
  const float* x = FloatArg(info, 0, kernel, "x", size);
  float* out = FloatArg(info, 3, kernel, "out", size);
  moprune::Transpose(static_cast<int>(rank), x, shape.data(), perm.data(), out);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("broadcastTo", Napi::Function::New(env, BroadcastTo));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares));
  exports.Set("gatherByteRows", Napi::Function::New(env, GatherByteRows));
  exports.Set("sumAbs", Napi::Function::New(env, SumAbs));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("movingAverage", Napi::Function::New(env, MovingAverage));
  exports.Set("biasAddRelu", Napi::Function::New(env, BiasAddRelu));
  exports.Set("biasAddReluGrad", Napi::Function::New(env, BiasAddReluGrad));
  exports.Set("binaryBroadcast", Napi::Function::New(env, BinaryBroadcast));
  exports.Set("channelAffine", Napi::Function::New(env, ChannelAffine));
  exports.Set("batchNormTraining", Napi::Function::New(env, BatchNormTraining));
  exports.Set("batchNormTrainingGrad", Napi::Function::New(env, BatchNormTrainingGrad));
  exports.Set("sumAxes", Napi::Function::New(env, SumAxes));
  exports.Set("copyBox", Napi::Function::New(env, CopyBox));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setConvImplementation", Napi::Function::New(env, SetConvImplementation));
  exports.Set("setDirectConvolution", Napi::Function::New(env, SetDirectConvolution));
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory));
  exports.Set("matMul", Napi::Function::New(env, MatMul));
  exports.Set("conv2D", Napi::Function::New(env, Conv2D));
  exports.Set("conv2DBackpropInput", Napi::Function::New(env, Conv2DBackpropInput));
  exports.Set("conv2DBackpropFilter", Napi::Function::New(env, Conv2DBackpropFilter));
  exports.Set("biasActivation", Napi::Function::New(env, BiasActivation));
  exports.Set("maxPool", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return PoolCall(i, "MaxPool"); }));
  exports.Set("maxPoolGrad",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return PoolCall(i, "MaxPoolGrad"); }));
  exports.Set("avgPool", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return PoolCall(i, "AvgPool"); }));
  exports.Set("avgPoolGrad",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return PoolCall(i, "AvgPoolGrad"); }));
  return exports;
}

}  // namespace

NODE_API_MODULE(moprune_native, Init)
