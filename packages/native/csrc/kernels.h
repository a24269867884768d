// Float32 NHWC kernels on OpenBLAS. Callers (addon.cc) validate every size
// and buffer length before calling; these functions trust their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moprune {

// Geometry of one 2-D convolution or pooling window, NHWC.
struct ConvGeom {
  int64_t batch, in_h, in_w, in_c;
  int64_t filter_h, filter_w, out_c;
  int64_t out_h, out_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left;
};

void SetThreads(int threads);
int Threads();
// Times the kernel thread pool switched from spinning to blocking between jobs because its workers
// were being preempted (a machine shared with other busy processes), and whether it blocks now.
std::size_t PoolBackoffs();
bool PoolBlocking();
// Convolutions on oneDNN (true) or im2col + sgemm (false). Returns false,
// changing nothing, when asked for oneDNN in an addon built without it.
bool SetConvImplementation(bool onednn);
// "onednn" or "im2col".
const char* ConvImplementation();

// out[batch] = op(a[batch % batch_a]) x op(b[batch % batch_b]); op = transpose when flagged.
// a holds batch_a matrices of m x k (k x m when trans_a), b holds batch_b of k x n (n x k).
void MatMul(const float* a, const float* b, float* out, int64_t batch_a, int64_t batch_b, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b);

// y[N,OH,OW,Cout] = conv(x[N,H,W,Cin], w[KH,KW,Cin,Cout]).
void Conv2D(const ConvGeom& g, const float* x, const float* w, float* y);
// dx[N,H,W,Cin] from dy[N,OH,OW,Cout] and w[KH,KW,Cin,Cout].
void Conv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx);
// dw[KH,KW,Cin,Cout] from x[N,H,W,Cin] and dy[N,OH,OW,Cout].
void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

// y[i] = act(y[i] + bias[i % channels]); bias may be null; act: 0 linear, 1 relu, 2 relu6.
void BiasActivation(float* y, int64_t size, const float* bias, int64_t channels, int activation);

// Pooling over NHWC with g.in_c == g.out_c channels (filter is a window, no weights).
void MaxPool(const ConvGeom& g, const float* x, float* y);
void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx);
// Average over the in-bounds part of each window (padding is not counted), as tfjs and TensorFlow do.
void AvgPool(const ConvGeom& g, const float* x, float* y);
// Spreads dy / (filter_h * filter_w) over each window's in-bounds pixels: tfjs's
// kernel contract, which is not the exact adjoint of AvgPool at padded borders.
void AvgPoolGrad(const ConvGeom& g, const float* dy, float* dx);

// out[i] = a[i % a_size] op b[i % b_size] over out_size elements; op: 0 add,
// 1 sub, 2 mul, 3 div, 4 add then ReLU (max(a + b, 0), NaN stays NaN).
// Callers ensure both sizes divide out_size and that the smaller operand's
// shape is a suffix of the output's (so `%` broadcasts it).
void Binary(int op, const float* a, int64_t a_size, const float* b, int64_t b_size, float* out, int64_t out_size);
// out[r, c] = (x[r, c] - center[c]) * scale[c] + shift[c] over size / channels rows (batch norm).
void ChannelAffine(const float* x, float* out, int64_t size, const float* center, const float* scale, const float* shift,
                   int64_t channels);
// Training-mode batch norm of x viewed as [rows, channels]: mean and (biased)
// variance per channel over the rows, then y = (x - mean) * a + offset with
// a = scale / sqrt(variance + epsilon), clamped at 0 when `relu` (a fused
// ReLU). Moments are accumulated in double around the first row's values
// (shifted sums), so a large common offset does not cancel.
void BatchNormTraining(const float* x, const float* scale, const float* offset, float* y, float* mean,
                       float* variance, int64_t rows, int64_t channels, float epsilon, bool relu);
// Its exact gradient (batch statistics included), per channel over the rows,
// with g = dy, or with `relu` dy masked as tfjs's dy * step(pre) by the
// pre-activation the forward kernel computed (recomputed bit for bit):
// doffset = sum g, dscale = sum g * xhat, dx = scale * r / rows * (rows * g -
// doffset - xhat * dscale), with r = 1 / sqrt(variance + epsilon), xhat = (x - mean) * r.
void BatchNormTrainingGrad(const float* dy, const float* x, const float* scale, const float* offset, const float* mean,
                           const float* variance, float* dx, float* dscale, float* doffset, int64_t rows,
                           int64_t channels, float epsilon, bool relu);
// General broadcasting: out (shape, rank >= 1) from a and b read with the
// given element strides (0 on broadcast axes). op as in Binary.
void BinaryStrided(int op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides, float* out,
                   const int64_t* shape, int rank);
// op: 0 relu (NaN stays NaN), 1 step (x > 0 ? 1 : alpha; NaN stays NaN), 2 square, 3 abs, 4 sign (tfjs cpu: 0 for ±0 and NaN).
void Unary(int op, const float* x, float* out, int64_t size, float alpha);
// ReLU's gradient in one pass: out = dy where x > 0, dy * 0 where x <= 0 (NaN
// for an infinite or NaN dy), NaN where x is NaN — tfjs's dy * step(x).
void ReluGrad(const float* dy, const float* x, float* out, int64_t size);
// The sum of x[i]² over the array, each square and sum in double, in sixteen interleaved partial
// sums added in a fixed order (the same value for every vector width). One thread.
double SumSquares(const float* x, int64_t size);
// The sum of |x[i]| over the array, in double, the same way.
double SumAbs(const float* x, int64_t size);

// A batch from byte rows through a lookup table (@moprune/core's MopruneGatherByteRows):
// out[k·row_size + p] = lut[(p mod channels)·256 + src[rows[k]·row_size + p]] for k < n. The caller
// checks every row index and that channels divides row_size. Threads over the rows when large.
void GatherByteRows(const uint8_t* src, const uint32_t* rows, int64_t n, int64_t row_size, const float* lut,
                    int64_t channels, float* out);

// One step of a moving average of `size` elements (@moprune/core's MopruneMovingAverage), in float,
// the composed ops' order: out = a·b + v·c with c = 1 − b, each product rounded. Threads over the elements.
void MovingAverage(const float* a, const float* v, float* out, int64_t size, float b);

// One SGD update of `size` elements (@moprune/core's MopruneSgdUpdate), in float, every product
// and sum rounded in the composed ops' order: style 0 no momentum (w - g*lr; b and b_out unused),
// 1 PyTorch (b' = b*mu + g; d = nesterov ? g + b'*mu : b'; w - d*lr), 2 Keras (v' = b*mu - g*lr;
// nesterov ? (w + v'*mu) - g*lr : w + v').
void SgdUpdate(const float* w, const float* g, const float* b, float* w_out, float* b_out, int64_t size, float lr,
               float mu, int style, bool nesterov);

// One Adam update of `size` elements (@moprune/core's MopruneAdamUpdate), in float, the composed
// ops' order: m' = m·b1 + g·(1 − b1), v' = v·b2 + g²·(1 − b2), then
// w' = w − (m'/(√v' + eps))·scale (raw ε; scale = lr·√bc2/bc1) or
// w' = w − ((m'/bc1)/(√(v'/bc2) + eps))·scale (corrected ε; scale = lr). Threads over the elements.
void AdamUpdate(const float* w, const float* g, const float* m, const float* v, float* w_out, float* m_out,
                float* v_out, int64_t size, float b1, float b2, float eps, float scale, float bc1, float bc2,
                bool corrected);
// Gradient of y = max(x + bias, 0) over x viewed as [rows, channels]: dx = dy * step(y)
// (as ReluGrad) and dbias[c] = the sum of dx[., c], in one pass.
void BiasAddReluGrad(const float* dy, const float* y, int64_t rows, int64_t channels, float* dx, float* dbias);
// x viewed as [outer, mid, inner]: out[o, i] = sum over m of x[o, m, i],
// accumulated in double.
void SumAxes(const float* x, float* out, int64_t outer, int64_t mid, int64_t inner);
// Copies a box of `box` elements per axis from src (shape src_shape, starting
// at src_begin, stepping src_step) into dst (shape dst_shape, at dst_begin).
// Callers check that both boxes lie inside their tensors.
void CopyBox(int rank, const float* src, const int64_t* src_shape, const int64_t* src_begin, const int64_t* src_step,
             float* dst, const int64_t* dst_shape, const int64_t* dst_begin, const int64_t* box);

// out (shape out_shape) = x broadcast to it: x_shape has the same rank, each
// axis equal to the output's or 1. Callers check the shapes.
void BroadcastTo(int rank, const float* x, const int64_t* x_shape, float* out, const int64_t* out_shape);

// out = x with axes permuted: out axis d is x axis perm[d]. Callers check perm.
void Transpose(int rank, const float* x, const int64_t* shape, const int64_t* perm, float* out);

}  // namespace moprune
