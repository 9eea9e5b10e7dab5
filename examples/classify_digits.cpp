// Classifies held-out 8x8 handwritten digits with the bundled models/digits.ember
// from C++17: the same program as classify_digits.c, with the C API's handles
// owned by std::unique_ptr (custom deleters), so every exit path frees them.
//
//   c++ -std=c++17 classify_digits.cpp $(pkg-config --cflags --libs ember) -o classify_digits_cpp
//   ./classify_digits_cpp models/digits.ember models/digits_test.bin
#include <ember.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// ------------------------------------------------------------ RAII handles

struct ModelDeleter {
    void operator()(ember_model* m) const noexcept { ember_model_free(m); }
};
struct SessionDeleter {
    void operator()(ember_session* s) const noexcept { ember_session_free(s); }
};
using Model = std::unique_ptr<ember_model, ModelDeleter>;
using Session = std::unique_ptr<ember_session, SessionDeleter>;

// An ember failure: what was being done, the status and ember_last_error().
struct Error : std::runtime_error {
    explicit Error(const std::string& what, ember_status status)
        : std::runtime_error(what + ": " + ember_status_string(status) + ": " + ember_last_error()) {}
};

void check(ember_status status, const std::string& what) {
    if (status != EMBER_OK) throw Error(what, status);
}

Model load_model(const std::string& path) {
    ember_model* raw = nullptr;
    check(ember_model_load_file(path.c_str(), nullptr, &raw), path);
    return Model(raw);
}

// A session declared after its model is destroyed before it, as ember requires.
Session create_session(const Model& model) {
    ember_session* raw = nullptr;
    check(ember_session_create(model.get(), nullptr, &raw), "creating a session");
    return Session(raw);
}

// ------------------------------------------------- test data (.bin records)

// [u32 name_len][name][u32 dtype][u32 rank][i64 dims[rank]][data], little-endian
// (tests/models/README.md).
struct Record {
    std::string name;
    ember_dtype dtype = EMBER_DTYPE_UNDEFINED;
    std::vector<int64_t> dims;
    std::vector<unsigned char> data;
};

std::vector<Record> read_records(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<Record> out;
    uint32_t len = 0;
    while (f.read(reinterpret_cast<char*>(&len), 4)) {
        Record r;
        uint32_t dtype = 0, rank = 0;
        if (len > 4096) throw std::runtime_error(path + ": bad record name length");
        r.name.resize(len);
        f.read(r.name.data(), len);
        f.read(reinterpret_cast<char*>(&dtype), 4);
        f.read(reinterpret_cast<char*>(&rank), 4);
        if (!f || rank > EMBER_MAX_RANK) throw std::runtime_error(path + ": bad record header");
        r.dtype = static_cast<ember_dtype>(dtype);
        r.dims.resize(rank);
        f.read(reinterpret_cast<char*>(r.dims.data()), static_cast<std::streamsize>(8 * rank));
        size_t count = 1;
        for (int64_t d : r.dims) count *= static_cast<size_t>(d);
        r.data.resize(count * ember_dtype_size(r.dtype));
        f.read(reinterpret_cast<char*>(r.data.data()), static_cast<std::streamsize>(r.data.size()));
        if (!f) throw std::runtime_error(path + ": truncated record '" + r.name + "'");
        out.push_back(std::move(r));
    }
    return out;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int run(const std::string& model_path, const std::string& data_path) {
    std::vector<Record> recs = read_records(data_path);
    if (recs.size() < 2 || recs[0].name != "images" || recs[1].name != "labels" ||
        recs[0].dtype != EMBER_DTYPE_F32 || recs[1].dtype != EMBER_DTYPE_I64)
        throw std::runtime_error("cannot read images and labels from " + data_path);
    const auto* images = reinterpret_cast<const float*>(recs[0].data.data());
    const auto* labels = reinterpret_cast<const int64_t*>(recs[1].data.data());
    const int64_t count = recs[0].dims[0];

    auto t0 = std::chrono::steady_clock::now();
    Model model = load_model(model_path);
    Session session = create_session(model);
    double load_ms = ms_since(t0);

    const char* name = ember_model_metadata(model.get(), "name");
    std::printf("ember %s: model '%s', %zu nodes, %llu parameters, loaded in %.2f ms\n",
                ember_version_string(), name ? name : "?", ember_model_node_count(model.get()),
                static_cast<unsigned long long>(ember_model_parameter_count(model.get())), load_ms);

    const int64_t dims[4] = {1, 1, 8, 8};
    std::vector<double> times;
    times.reserve(static_cast<size_t>(count));
    int64_t correct = 0;
    for (int64_t i = 0; i < count; i++) {
        auto s = std::chrono::steady_clock::now();
        check(ember_session_set_input(session.get(), 0, EMBER_DTYPE_F32, dims, 4, images + i * 64,
                                      64 * sizeof(float)),
              "setting the input");
        check(ember_session_run(session.get()), "running");
        ember_tensor out{};
        out.struct_size = sizeof out;
        check(ember_session_output(session.get(), 0, &out), "reading the output");
        times.push_back(ms_since(s));
        const auto* probs = static_cast<const float*>(out.data);
        const size_t n = out.bytes / sizeof(float);
        const int64_t best = std::max_element(probs, probs + n) - probs;
        correct += best == labels[i];
        if (i < 8) {
            const char* label = ember_model_label(model.get(), static_cast<size_t>(best));
            std::printf("  image %2lld: predicted %s (p=%.3f), true %lld %s\n", static_cast<long long>(i),
                        label ? label : "?", probs[best], static_cast<long long>(labels[i]),
                        best == labels[i] ? "" : " <- wrong");
        }
    }
    std::sort(times.begin(), times.end());
    std::printf("accuracy on %lld held-out digits: %.2f%%\n", static_cast<long long>(count),
                100.0 * static_cast<double>(correct) / static_cast<double>(count));
    std::printf("latency per image (set input + run + read output): median %.2f us, p90 %.2f us\n",
                times[times.size() / 2] * 1e3, times[times.size() * 9 / 10] * 1e3);
    return 0;  // session, then model, freed here (reverse order of declaration)
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc > 1 ? argv[1] : "models/digits.ember", argc > 2 ? argv[2] : "models/digits_test.bin");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
