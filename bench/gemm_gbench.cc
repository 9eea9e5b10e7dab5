// F32 GEMM throughput through Google Benchmark, single thread: ember's C GEMM on
// each ISA path beside OpenBLAS's cblas_sgemm in the same run, as GFLOP/s and as
// a share of the FMA peak of the path's vector width, measured at start-up by
// fma_peak.c (best of 20 runs of ~20 ms per width).
//
//   gemm_gbench [--benchmark_filter=...] [--benchmark_repetitions=3 ...]
//
// Shapes: C (M x N) = A (M x K) * B (K x N), row-major, beta = 0:
//   - square 256^3, 512^3, 1024^3;
//   - the conv-shaped products of resnet18 and mobilenet_v2 (kConvShapes).
// Implementations (the part after the last '/' of a name):
//   ember_<isa>          ember_f32_gemm with that dispatch table (packs A and B
//                        at every call, as a MatMul/Gemm does);
//   ember_<isa>_packedA  ember_f32_gemm_pack_a_full once, outside the timing,
//                        then ember_f32_gemm_prepacked_a (A = the weights, as
//                        Conv runs them); conv shapes only;
//   openblas             cblas_sgemm, openblas_set_num_threads(1), its own
//                        kernel choice (OPENBLAS_CORETYPE is left unset; the
//                        core it picked is in the context lines at the top).
// Counters: GFLOP/s (2 M N K / CPU time) and %peak (of the measured FMA peak
// of the path's width; openblas against the widest available; none for
// generic). Both are Google Benchmark rates, hence the "/s" it prints after
// %peak too.
// Each benchmark checks its C against cblas_sgemm once, after the timing.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "dispatch.h"
#include "f32_gemm.h"
#include "fma_peak.h"
}

namespace {

struct Shape {
    const char* label;  // where it comes from
    size_t m, n, k;
    int layers;         // how many conv layers of the model have this product
};

// The conv-shaped products, derived from /tmp/zoo/resnet18.onnx and
// /tmp/zoo/mobilenet_v2.onnx (torchvision's architectures, batch 1, 224 x 224)
// with onnx.shape_inference: for each Conv, M = output channels, N = output
// H * W, K = input channels / group * kh * kw (the GEMM a conv lowers to);
// one entry per distinct (M, N, K). Depthwise convs (group = channels, K = 9)
// are not GEMMs (ember runs them as direct kernels) and are left out.
const Shape kConvShapes[] = {
    // resnet18
    {"r18_conv1_7x7s2", 64, 12544, 147, 1},
    {"r18_layer1_3x3", 64, 3136, 576, 4},
    {"r18_layer2_3x3s2", 128, 784, 576, 1},
    {"r18_layer2_3x3", 128, 784, 1152, 3},
    {"r18_layer2_down1x1", 128, 784, 64, 1},
    {"r18_layer3_3x3s2", 256, 196, 1152, 1},
    {"r18_layer3_3x3", 256, 196, 2304, 3},
    {"r18_layer3_down1x1", 256, 196, 128, 1},
    {"r18_layer4_3x3s2", 512, 49, 2304, 1},
    {"r18_layer4_3x3", 512, 49, 4608, 3},
    {"r18_layer4_down1x1", 512, 49, 256, 1},
    // mobilenet_v2: the stem 3x3 conv, then the pointwise (1x1) expand and
    // project convs of the inverted residual blocks (features.N)
    {"mv2_f0_3x3s2", 32, 12544, 27, 1},
    {"mv2_f1_proj", 16, 12544, 32, 1},
    {"mv2_f2_expand", 96, 12544, 16, 1},
    {"mv2_f2_proj", 24, 3136, 96, 1},
    {"mv2_f3_expand", 144, 3136, 24, 2},
    {"mv2_f3_proj", 24, 3136, 144, 1},
    {"mv2_f4_proj", 32, 784, 144, 1},
    {"mv2_f5_expand", 192, 784, 32, 3},
    {"mv2_f5_proj", 32, 784, 192, 2},
    {"mv2_f7_proj", 64, 196, 192, 1},
    {"mv2_f8_expand", 384, 196, 64, 4},
    {"mv2_f8_proj", 64, 196, 384, 3},
    {"mv2_f11_proj", 96, 196, 384, 1},
    {"mv2_f12_expand", 576, 196, 96, 3},
    {"mv2_f12_proj", 96, 196, 576, 2},
    {"mv2_f14_proj", 160, 49, 576, 1},
    {"mv2_f15_expand", 960, 49, 160, 3},
    {"mv2_f15_proj", 160, 49, 960, 2},
    {"mv2_f17_proj", 320, 49, 960, 1},
    {"mv2_f18_1x1", 1280, 49, 320, 1},
};

const Shape kSquareShapes[] = {
    {"square", 256, 256, 256, 0},
    {"square", 512, 512, 512, 0},
    {"square", 1024, 1024, 1024, 0},
};

double g_peak[EMBER_FMA_WIDTH_COUNT];  // GFLOP/s per width, 0: not available

enum class Impl { EmberGemm, EmberPackedA, OpenBlas };

struct Buffers {
    float* p = nullptr;
    explicit Buffers(size_t floats) {
        const size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
        p = static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64));
    }
    ~Buffers() { std::free(p); }
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
};

void fill(float* x, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = static_cast<float>(seed >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}

void sgemm_blas(const Shape& s, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.m),
                static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, a, static_cast<int>(s.k), b,
                static_cast<int>(s.n), 0.0f, c, static_cast<int>(s.n));
}

void BM_gemm(benchmark::State& state, Shape s, Impl impl, const ember_kernels* kern,
             double peak) {
    const size_t m = s.m, n = s.n, k = s.k;
    Buffers a(m * k), b(k * n), c(m * n), ref(m * n);
    fill(a.p, m * k, 1u), fill(b.p, k * n, 2u);
    std::memset(c.p, 0, m * n * sizeof(float));
    Buffers ws(kern ? ember_f32_gemm_workspace_size(kern, m, n, k) / sizeof(float) + 1 : 1);
    Buffers ap(impl == Impl::EmberPackedA ? ember_f32_gemm_packed_a_size(kern, m, k) / sizeof(float) + 1
                                          : 1);
    if (impl == Impl::EmberPackedA) ember_f32_gemm_pack_a_full(kern, m, k, 1.0f, a.p, k, 1, ap.p);

    for (auto _ : state) {
        switch (impl) {
        case Impl::EmberGemm:
            ember_f32_gemm(kern, m, n, k, 1.0f, a.p, k, 1, b.p, n, 1, 0.0f, c.p, n, ws.p);
            break;
        case Impl::EmberPackedA:
            ember_f32_gemm_prepacked_a(kern, m, n, k, ap.p, b.p, n, 1, 0.0f, c.p, n, ws.p);
            break;
        case Impl::OpenBlas:
            sgemm_blas(s, a.p, b.p, c.p);
            break;
        }
        benchmark::DoNotOptimize(c.p);
        benchmark::ClobberMemory();
    }

    const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    if (peak > 0.0)
        state.counters["%peak"] = benchmark::Counter(flops * 1e-9 * 100.0 / peak,
                                                     benchmark::Counter::kIsIterationInvariantRate);

    // Correctness, once, outside the timing: against cblas_sgemm.
    if (impl != Impl::OpenBlas) {
        sgemm_blas(s, a.p, b.p, ref.p);
        double worst = 0.0;
        for (size_t i = 0; i < m * n; i++) {
            const double e = std::fabs(static_cast<double>(c.p[i]) - ref.p[i]);
            if (e > worst) worst = e;
        }
        // |A|, |B| <= 1: sums of k products, rounding error well under 1e-5 * k.
        if (!(worst <= 1e-5 * static_cast<double>(k) + 1e-4))
            state.SkipWithError(("result differs from cblas_sgemm by " + std::to_string(worst)).c_str());
    }
}

std::string shape_name(const Shape& s) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s/%zux%zux%zu", s.label, s.m, s.n, s.k);
    return buf;
}

struct Path {
    const char* isa;
    ember_fma_width width;
};

void register_shape(const Shape& s, bool conv) {
    const std::string base = "gemm/" + shape_name(s) + "/";
    static const Path paths[] = {{"generic", EMBER_FMA_SCALAR},
                                 {"avx2", EMBER_FMA_AVX2},
                                 {"avx512", EMBER_FMA_AVX512}};
    for (const Path& p : paths) {
        const ember_kernels* kern = ember_kernels_for(p.isa);
        if (!kern) continue;
        // The generic path (scalar C at baseline flags) only on the square
        // shapes: it is what a CPU without AVX2 gets, not a contender.
        if (conv && std::strcmp(p.isa, "generic") == 0) continue;
        // No %peak for the generic path: GCC vectorises its 4x4 scalar C with
        // SSE at baseline flags (mul + add), so the scalar FMA peak is no bound.
        const double peak = std::strcmp(p.isa, "generic") == 0 ? 0.0 : g_peak[p.width];
        benchmark::RegisterBenchmark((base + "ember_" + p.isa).c_str(), BM_gemm, s, Impl::EmberGemm,
                                     kern, peak);
        if (conv)
            benchmark::RegisterBenchmark((base + "ember_" + p.isa + "_packedA").c_str(), BM_gemm, s,
                                         Impl::EmberPackedA, kern, peak);
    }
    double widest = 0.0;
    for (double g : g_peak)
        if (g > widest) widest = g;
    benchmark::RegisterBenchmark((base + "openblas").c_str(), BM_gemm, s, Impl::OpenBlas, nullptr,
                                 widest);
}

void BM_fma_peak(benchmark::State& state, ember_fma_width w) {
    const uint64_t iters = 1u << 20;
    float sink = 0.0f;
    double flops = 0.0;
    for (auto _ : state) {
        flops = ember_fma_run(w, iters, &sink);
        benchmark::DoNotOptimize(sink);
    }
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    openblas_set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    char line[64];
    for (int w = 0; w < EMBER_FMA_WIDTH_COUNT; w++) {
        const auto width = static_cast<ember_fma_width>(w);
        g_peak[w] = ember_fma_peak_gflops(width, 20, 20.0);
        std::snprintf(line, sizeof line, "%.1f GFLOP/s", g_peak[w]);
        benchmark::AddCustomContext(std::string("fma_peak_") + ember_fma_width_name(width),
                                    g_peak[w] > 0.0 ? line : "n/a");
        if (g_peak[w] > 0.0)
            benchmark::RegisterBenchmark((std::string("fma_peak/") + ember_fma_width_name(width)).c_str(),
                                         BM_fma_peak, width);
    }
    benchmark::AddCustomContext("openblas_config", openblas_get_config());
    benchmark::AddCustomContext("openblas_corename", openblas_get_corename());
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    benchmark::AddCustomContext("OPENBLAS_CORETYPE", coretype ? coretype : "(unset)");

    for (const Shape& s : kSquareShapes) register_shape(s, false);
    for (const Shape& s : kConvShapes) register_shape(s, true);

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
