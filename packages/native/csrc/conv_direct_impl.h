// Body of the direct one-input-channel convolution (see conv_direct.cc).
// conv_direct.cc includes it once per instruction set, inside a
// `#pragma GCC target` region and a namespace defining the vector type Vec
// of kLanes floats, Mask (lane mask) and Idx (lane indices), the block sizes
// kRows, kMaxBlock, kMaxKx, kGradBlock, and Zero(), Load(p), Store(p, v),
// Fma(a, b, acc) = a * b + acc, Add(a, b), TailMask(n) (first n lanes),
// MaskLoad(p, m) (zeros elsewhere, reads nothing there), MaskStore(p, m, v),
// LoadIdx(p) and Permute(idx, v) (lane l = v[idx[l]]). Everything here is
// compiled for that instruction set only, and only called after the CPU was
// checked.
//
// Why this layout. With one input channel, output row oy of an image is the
// flat array y[oy][j], j = ox * C + c, of ow * C floats (NHWC), and
//   y[oy][j] = sum over ky, kx of w[ky][kx][j % C] * xpad[oy + ky][j / C + kx].
// Expanding each zero-padded input row into e[i * C + c] = xpad[i] (every
// pixel repeated C times) turns the second factor into e[j + C * kx], a plain
// unaligned load, and repeating each tap's C weights along the row,
// wrow[tap][j] = w[tap][j % C], turns the first into one too. Every lane of
// every vector then does useful work whatever C is (LeNet's C = 6 would fill
// 6 of 16 lanes if vectorized over channels), and the inner loop has no
// bounds checks: the padding lives in the expanded rows. The filter gradient
// reads the same sum the other way round,
//   dwrow[tap][j] += dy[oy][j] * e[oy + ky - pt][j + C * kx],
// folded into dw[tap][j % C] at the end.

// Sizes of one call's rows, in floats.
struct Layout {
  int64_t c, kh, kw, oh, ow, ih, iw, pt, pl;
  int64_t row;     // one output row: ow * c
  int64_t chunks;  // vectors per output row, the last one possibly partial
  int64_t padded;  // chunks * kLanes
  int64_t len;     // expanded input floats read per row: padded + c * (kw - 1)
  int64_t pixels;  // padded input pixels behind those: ceil(len / c)
  int64_t group;   // pixels expanded per group: kLanes / gcd(c, kLanes)
  int64_t phases;  // vectors per group: group * c / kLanes
  int64_t stride;  // expanded row pitch: whole groups, >= len
  int64_t erows;   // expanded rows per image, padding included: oh + kh - 1
  int64_t taps;    // kh * kw
  int tail;        // lanes used in a row's last vector
};

inline int64_t Gcd(int64_t a, int64_t b) { return b == 0 ? a : Gcd(b, a % b); }

inline Layout MakeLayout(const ConvGeom& g) {
  Layout l;
  l.c = g.out_c;
  l.kh = g.filter_h;
  l.kw = g.filter_w;
  l.oh = g.out_h;
  l.ow = g.out_w;
  l.ih = g.in_h;
  l.iw = g.in_w;
  l.pt = g.pad_top;
  l.pl = g.pad_left;
  l.row = l.ow * l.c;
  l.chunks = (l.row + kLanes - 1) / kLanes;
  l.padded = l.chunks * kLanes;
  l.len = l.padded + l.c * (l.kw - 1);
  l.pixels = (l.len + l.c - 1) / l.c;
  l.group = kLanes / Gcd(l.c, kLanes);
  l.phases = l.group * l.c / kLanes;
  l.stride = (l.pixels + l.group - 1) / l.group * l.phases * kLanes;
  l.erows = l.oh + l.kh - 1;
  l.taps = l.kh * l.kw;
  l.tail = static_cast<int>(l.row - (l.chunks - 1) * kLanes);
  return l;
}

// Per-thread scratch, reused between calls: the image's expanded rows, its
// padded input row, the expansion's permutation indices.
struct Scratch {
  std::vector<float> e, xp;
  std::vector<int32_t> idx;
};

Scratch& ThreadScratch(const Layout& l) {
  thread_local Scratch s;
  const size_t e_size = static_cast<size_t>(l.erows * l.stride);
  if (s.e.size() < e_size) s.e.resize(e_size);
  const size_t xp_size = static_cast<size_t>((l.pixels + l.group - 1) / l.group * l.group + kLanes);
  if (s.xp.size() < xp_size) s.xp.resize(xp_size);
  // Lane k of the group's vector p holds pixel (p * kLanes + k) / c of the group.
  s.idx.resize(static_cast<size_t>(l.phases * kLanes));
  for (int64_t i = 0; i < l.phases * kLanes; ++i) s.idx[static_cast<size_t>(i)] = static_cast<int32_t>(i / l.c);
  return s;
}

// Expands one image: e row r = padded input row r - pt repeated per pixel,
// rows in the top/bottom padding all zeros (so the kernels never test bounds).
// Each group of `group` pixels becomes `phases` whole vectors, one permute
// each (6 channels: 8 pixels -> 3 vectors of 16).
void ExpandImage(const Layout& l, const float* xn, Scratch& s) {
  float* xp = s.xp.data();
  const int64_t groups = (l.pixels + l.group - 1) / l.group;
  // The input columns that land in the padded row, [i0, i1) in its coordinates.
  const int64_t i0 = std::min(l.pl, l.pixels);
  const int64_t i1 = std::min(l.pl + l.iw, l.pixels);
  std::fill(xp, xp + s.xp.size(), 0.0f);
  for (int64_t r = 0; r < l.erows; ++r) {
    float* e = s.e.data() + r * l.stride;
    const int64_t iy = r - l.pt;
    if (iy < 0 || iy >= l.ih || i1 <= i0) {
      std::fill(e, e + l.stride, 0.0f);
      continue;
    }
    std::memcpy(xp + i0, xn + iy * l.iw + (i0 - l.pl), static_cast<size_t>(i1 - i0) * sizeof(float));
    for (int64_t gi = 0; gi < groups; ++gi) {
      const Vec v = Load(xp + gi * l.group);
      float* d = e + gi * l.phases * kLanes;
      for (int64_t p = 0; p < l.phases; ++p) Store(d + p * kLanes, Permute(LoadIdx(s.idx.data() + p * kLanes), v));
    }
  }
}

// Output rows [oy, oy + R) x vectors [q0, q0 + NB) of one image: R * NB
// independent accumulators. Per tap the NB weight vectors are loaded once
// and serve R rows, so an FMA costs 1 + 1/R loads (the input vector is
// different for every one).
template <int R, int NB>
void ForwardBlock(const Layout& l, const float* e, const float* wrow, int64_t oy, int64_t q0, float* yn) {
  Vec acc[R][NB];
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < NB; ++b) acc[r][b] = Zero();
  }
  for (int64_t ky = 0; ky < l.kh; ++ky) {
    const float* er = e + (oy + ky) * l.stride + q0 * kLanes;
    const float* wr = wrow + ky * l.kw * l.padded + q0 * kLanes;
    for (int64_t kx = 0; kx < l.kw; ++kx, er += l.c, wr += l.padded) {
      Vec wv[NB];
      for (int b = 0; b < NB; ++b) wv[b] = Load(wr + b * kLanes);
      for (int r = 0; r < R; ++r) {
        for (int b = 0; b < NB; ++b) acc[r][b] = Fma(wv[b], Load(er + r * l.stride + b * kLanes), acc[r][b]);
      }
    }
  }
  // A row's partial last vector is stored masked: never past the row (the
  // next row may belong to another thread, or be the end of the buffer).
  const bool tail = q0 + NB == l.chunks && l.tail < kLanes;
  const Mask last = TailMask(tail ? l.tail : static_cast<int>(kLanes));
  for (int r = 0; r < R; ++r) {
    float* yr = yn + (oy + r) * l.row + q0 * kLanes;
    for (int b = 0; b < NB - 1; ++b) Store(yr + b * kLanes, acc[r][b]);
    if (tail) {
      MaskStore(yr + (NB - 1) * kLanes, last, acc[r][NB - 1]);
    } else {
      Store(yr + (NB - 1) * kLanes, acc[r][NB - 1]);
    }
  }
}

// dwrow[tap][q0 * kLanes, (q0 + NB) * kLanes) += one image's sum over its
// rows, for taps kx0 .. kx0 + NKX - 1 of every filter row: NKX * NB
// accumulators; each dy vector is loaded once for NKX taps (1 + 1/NKX loads
// per FMA). The last dy vector is loaded masked: zeros past the row.
template <int NKX, int NB>
void FilterBlock(const Layout& l, const float* e, const float* dn, float* dwrow, int64_t q0, int64_t kx0) {
  const Mask last = TailMask(q0 + NB == l.chunks ? l.tail : static_cast<int>(kLanes));
  for (int64_t ky = 0; ky < l.kh; ++ky) {
    Vec acc[NKX][NB];
    for (int k = 0; k < NKX; ++k) {
      for (int b = 0; b < NB; ++b) acc[k][b] = Zero();
    }
    const float* er = e + ky * l.stride + kx0 * l.c + q0 * kLanes;
    const float* dr = dn + q0 * kLanes;
    for (int64_t oy = 0; oy < l.oh; ++oy, er += l.stride, dr += l.row) {
      Vec dv[NB];
      for (int b = 0; b < NB - 1; ++b) dv[b] = Load(dr + b * kLanes);
      dv[NB - 1] = MaskLoad(dr + (NB - 1) * kLanes, last);
      for (int k = 0; k < NKX; ++k) {
        for (int b = 0; b < NB; ++b) acc[k][b] = Fma(dv[b], Load(er + k * l.c + b * kLanes), acc[k][b]);
      }
    }
    float* a = dwrow + (ky * l.kw + kx0) * l.padded + q0 * kLanes;
    for (int k = 0; k < NKX; ++k) {
      for (int b = 0; b < NB; ++b) Store(a + k * l.padded + b * kLanes, Add(Load(a + k * l.padded + b * kLanes), acc[k][b]));
    }
  }
}

using ForwardFn = void (*)(const Layout&, const float*, const float*, int64_t, int64_t, float*);
using FilterFn = void (*)(const Layout&, const float*, const float*, float*, int64_t, int64_t);

template <int R, int... NB>
constexpr std::array<ForwardFn, sizeof...(NB)> ForwardRow(std::integer_sequence<int, NB...>) {
  return {&ForwardBlock<R, NB + 1>...};
}
template <int NKX, int... NB>
constexpr std::array<FilterFn, sizeof...(NB)> FilterRow(std::integer_sequence<int, NB...>) {
  return {&FilterBlock<NKX, NB + 1>...};
}
template <int... K>
constexpr std::array<std::array<FilterFn, kGradBlock>, sizeof...(K)> FilterTable(std::integer_sequence<int, K...>) {
  return {FilterRow<K + 1>(std::make_integer_sequence<int, kGradBlock>())...};
}

// Splits n into ceil(n / most) parts as even as possible (11 by 4: 4, 4, 3),
// calling fn(begin, size).
template <typename F>
void ForEven(int64_t n, int64_t most, F fn) {
  const int64_t parts = (n + most - 1) / most;
  for (int64_t i = 0, begin = 0; i < parts; ++i) {
    const int64_t size = n / parts + (i < n % parts ? 1 : 0);
    fn(begin, static_cast<int>(size));
    begin += size;
  }
}

void Forward(const ConvGeom& g, const float* x, const float* w, float* y, const ParallelHooks& hooks) {
  const Layout l = MakeLayout(g);
  static constexpr std::array<std::array<ForwardFn, kMaxBlock>, 2> table{
      ForwardRow<1>(std::make_integer_sequence<int, kMaxBlock>()),
      ForwardRow<kRows>(std::make_integer_sequence<int, kMaxBlock>())};
  // wrow[tap][j] = w[tap][j % c], shared read-only by the threads.
  std::vector<float> wrow(static_cast<size_t>(l.taps * l.padded));
  for (int64_t t = 0; t < l.taps; ++t) {
    for (int64_t j = 0; j < l.padded; ++j) wrow[static_cast<size_t>(t * l.padded + j)] = w[t * l.c + j % l.c];
  }
  const int parts = hooks.parts(2 * g.batch * l.oh * l.row * l.taps, g.batch);
  hooks.run(parts, [&](int p) {
    const int64_t n0 = g.batch * p / parts;
    const int64_t n1 = g.batch * (p + 1) / parts;
    Scratch& s = ThreadScratch(l);
    for (int64_t n = n0; n < n1; ++n) {
      ExpandImage(l, x + n * l.ih * l.iw, s);
      float* yn = y + n * l.oh * l.row;
      int64_t oy = 0;
      for (; oy + kRows <= l.oh; oy += kRows) {
        ForEven(l.chunks, kMaxBlock, [&](int64_t q0, int nb) { table[1][nb - 1](l, s.e.data(), wrow.data(), oy, q0, yn); });
      }
      for (; oy < l.oh; ++oy) {
        ForEven(l.chunks, kMaxBlock, [&](int64_t q0, int nb) { table[0][nb - 1](l, s.e.data(), wrow.data(), oy, q0, yn); });
      }
    }
  });
}

void BackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw, const ParallelHooks& hooks) {
  const Layout l = MakeLayout(g);
  static constexpr auto table = FilterTable(std::make_integer_sequence<int, kMaxKx>());
  // Float sums over a few images at a time (each lane adds oh terms per
  // image), then added into double per thread: a weight's gradient adds
  // batch * oh * ow terms, and the cpu backend sums in double.
  constexpr int64_t kGroup = 4;
  const size_t size = static_cast<size_t>(l.taps * l.padded);
  const int parts = hooks.parts(2 * g.batch * l.oh * l.row * l.taps, g.batch);
  std::vector<std::vector<double>> sums(static_cast<size_t>(parts));
  hooks.run(parts, [&](int p) {
    const int64_t n0 = g.batch * p / parts;
    const int64_t n1 = g.batch * (p + 1) / parts;
    std::vector<double>& sum = sums[static_cast<size_t>(p)];
    sum.assign(size, 0.0);
    Scratch& s = ThreadScratch(l);
    thread_local std::vector<float> dwrow;
    dwrow.assign(size, 0.0f);
    for (int64_t n = n0; n < n1; ++n) {
      ExpandImage(l, x + n * l.ih * l.iw, s);
      const float* dn = dy + n * l.oh * l.row;
      ForEven(l.chunks, kGradBlock, [&](int64_t q0, int nb) {
        ForEven(l.kw, kMaxKx, [&](int64_t kx0, int nkx) { table[nkx - 1][nb - 1](l, s.e.data(), dn, dwrow.data(), q0, kx0); });
      });
      if ((n - n0) % kGroup == kGroup - 1 || n + 1 == n1) {
        for (size_t i = 0; i < size; ++i) {
          sum[i] += dwrow[i];
          dwrow[i] = 0.0f;
        }
      }
    }
  });
  // Fold the lanes: dw[tap][c] = sum over j < row with j % c == c.
  std::vector<double> out(static_cast<size_t>(l.taps * l.c), 0.0);
  for (const auto& sum : sums) {
    for (int64_t t = 0; t < l.taps; ++t) {
      for (int64_t j = 0; j < l.row; ++j) {
        out[static_cast<size_t>(t * l.c + j % l.c)] += sum[static_cast<size_t>(t * l.padded + j)];
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) dw[i] = static_cast<float>(out[i]);
}
