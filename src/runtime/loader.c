/* Loading (from a path through mmap, or from memory), freeing, and the
 * model's introspection API. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "model.h"

EMBER_API void ember_load_options_init(ember_load_options* o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
}

static ember_status read_options(const ember_load_options* o, ember_load_options* out) {
    ember_load_options_init(out);
    if (!o) return EMBER_OK;
    if (o->struct_size < offsetof(ember_load_options, flags) + sizeof o->flags ||
        o->struct_size > sizeof *o)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT,
                        "ember_load_options.struct_size is %zu; call ember_load_options_init first",
                        o->struct_size);
    if (o->flags != 0)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_load_options.flags must be 0, got 0x%x", o->flags);
    memcpy(out, o, sizeof *out);
    return EMBER_OK;
}

void em_model_drop_pages(const ember_model* m, const void* p, size_t n) {
    if (!m->mapped || n == 0) return;
    /* only pages of the file mapping: a constant copied out to anonymous
     * memory (copy_run_constants) would be zeroed, not re-read */
    const uintptr_t s0 = (uintptr_t)m->storage, s1 = s0 + m->storage_size;
    if ((uintptr_t)p < s0 || (uintptr_t)p > s1 || n > s1 - (uintptr_t)p) return;
    const long ps = sysconf(_SC_PAGESIZE);
    const uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096u;
    const uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    const uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);
    /* Failure only means the pages stay resident. */
    if (hi > lo) (void)madvise((void*)lo, hi - lo, MADV_DONTNEED);
}

static void model_release(ember_model* m) {
    if (!m) return;
    if (m->storage) {
        if (m->mapped)
            munmap(m->storage, m->storage_size);
        else
            em_aligned_free(m->storage);
    }
    free(m->tensors);
    free(m->nodes);
    free(m->attrs);
    free(m->quants);
    free(m->meta);
    free(m->labels);
    free(m->labels_text);
    em_aligned_free(m->run_consts);
    free(m->params_block);
    em_aligned_free(m->packed_block);
    free(m);
}

/* True if an input has a symbolic dimension other than the first (a dynamic
 * height, width or sequence length). */
static bool has_symbolic_inner_dims(const ember_model* m) {
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        const em_tensor* t = &m->tensors[m->inputs[i]];
        for (int32_t d = 1; d < t->shape.rank; d++)
            if (t->shape.dims[d] < 0) return true;
    }
    return false;
}

/* Reading a byte of the file maps the whole page-cache folio around it (up to
 * 2 MB on ext4), so the pages given back after a copy are those of the 2 MB
 * around it within WEIGHTS, not just its own: the peak stays a few MB, not the
 * span of all the small constants. */
static void drop_weights_around(const ember_model* m, const void* p, size_t n) {
    const uintptr_t span = (uintptr_t)2 << 20;
    const uintptr_t w0 = (uintptr_t)m->weights, w1 = w0 + m->weights_size;
    uintptr_t lo = (uintptr_t)p / span * span, hi = ((uintptr_t)p + n + span - 1) / span * span;
    if (lo < w0) lo = w0;
    if (hi > w1) hi = w1;
    if (m->weights && hi > lo) em_model_drop_pages(m, (const void*)lo, hi - lo);
}

/* A mapped model's constants that runs read (biases, shapes, depthwise and
 * other unpacked weights: all but those that will be packed and dropped, per
 * em_plan_weights_to_drop on the load-time plan) are copied into one anonymous
 * block and their file pages given back, so that a run never faults on the
 * file. The kernel maps the neighbours of a faulting file page too (fault-around,
 * whole large folios), and that brought back the pages of packed weights
 * dropped after packing (resnet18: 14 MB at every run, found by pagemap).
 * Out of memory only leaves them in place. */
/* With per-part checksums, each copied constant is checked on the copy, while
 * it is in cache. */
static ember_status copy_run_constants(ember_model* m, const uint32_t* drop) {
    size_t total = 0;
    for (uint32_t t = 0; t < m->n_tensors; t++) {
        const em_tensor* x = &m->tensors[t];
        if (x->data && x->data_size && (!drop || drop[t] == EM_NONE))
            total += (x->data_size + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
    }
    if (!total || !(m->run_consts = em_aligned_alloc(total))) return EMBER_OK;
    uint8_t* dst = m->run_consts;
    for (uint32_t t = 0; t < m->n_tensors; t++) {
        em_tensor* x = &m->tensors[t];
        if (!x->data || !x->data_size || (drop && drop[t] != EM_NONE)) continue;
        memcpy(dst, x->data, x->data_size);
        drop_weights_around(m, x->data, x->data_size);
        x->data = dst;
        ember_status st = em_tensor_verify(x);
        if (st != EMBER_OK) return st;
        dst += (x->data_size + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
    }
    return EMBER_OK;
}

/* Verifies, then infers every shape and plans a default session (symbolic
 * dimensions = 1) to check it against the limits. Where inner dimensions are
 * symbolic, 1 may be too small for the graph (a 3x3 convolution without
 * padding); shapes are then checked when a session fixes them, and only a plan
 * that exceeds the limits even at size 1 is refused here. */
static ember_status finish_load(ember_model* m, ember_model** out) {
    ember_status st = em_model_verify_and_build(m->base, m->storage_size, m);
    if (st == EMBER_OK) {
        em_plan plan;
        st = em_plan_build(m, NULL, &plan);
        if (st == EMBER_OK) {
            if (m->mapped) {
                uint32_t* drop = em_plan_weights_to_drop(m, &plan);
                if (drop || !plan.packed_total) st = copy_run_constants(m, drop);
                free(drop);
                /* and any weight page the copies and checks still brought in:
                 * what packing needs, it faults back */
                em_model_drop_pages(m, m->weights, m->weights_size);
            }
            em_plan_free(&plan);
        } else if (st != EMBER_ERROR_LIMIT_EXCEEDED && st != EMBER_ERROR_OUT_OF_MEMORY &&
                 has_symbolic_inner_dims(m))
            st = EMBER_OK;
    }
    if (st != EMBER_OK) {
        model_release(m);
        return st;
    }
    em_clear_error();
    *out = m;
    return EMBER_OK;
}

EMBER_API ember_status ember_model_load_file(const char* path, const ember_load_options* options,
                                             ember_model** out) {
    if (!path || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_load_file: path and out_model must not be NULL");
    ember_load_options limits;
    ember_status st = read_options(options, &limits);
    if (st != EMBER_OK) return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return em_error(EMBER_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return em_error(EMBER_ERROR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return em_error(EMBER_ERROR_IO, "'%s' is not a regular file", path);
    }
    if (sb.st_size < (off_t)sizeof(emf_header)) {
        close(fd);
        return em_error(EMBER_ERROR_INVALID_MODEL,
                        "invalid model: '%s' is %lld bytes, shorter than the 64-byte header", path,
                        (long long)sb.st_size);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX / 2) {
        close(fd);
        return em_error(EMBER_ERROR_INVALID_MODEL, "invalid model: '%s' is too large", path);
    }
    void* map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return em_error(EMBER_ERROR_IO, "cannot map '%s': %s", path, strerror(e));
    ember_model* m = calloc(1, sizeof *m);
    if (!m) {
        munmap(map, (size_t)sb.st_size);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", path);
    }
    m->storage = map;
    m->storage_size = (size_t)sb.st_size;
    m->mapped = true;
    m->base = map;
    m->limits = limits;
    return finish_load(m, out);
}

EMBER_API ember_status ember_model_load_memory(const void* data, size_t size,
                                               const ember_load_options* options, ember_model** out) {
    if (!data || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_load_memory: data and out_model must not be NULL");
    ember_load_options limits;
    ember_status st = read_options(options, &limits);
    if (st != EMBER_OK) return st;
    if (size < sizeof(emf_header))
        return em_error(EMBER_ERROR_INVALID_MODEL,
                        "invalid model: %zu bytes, shorter than the 64-byte header", size);
    ember_model* m = calloc(1, sizeof *m);
    void* copy = em_aligned_alloc(size);
    if (!m || !copy) {
        free(m);
        em_aligned_free(copy);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory copying a %zu-byte model", size);
    }
    memcpy(copy, data, size);
    m->storage = copy;
    m->storage_size = size;
    m->base = copy;
    m->limits = limits;
    return finish_load(m, out);
}

EMBER_API void ember_model_free(ember_model* m) { model_release(m); }

EMBER_API size_t ember_model_input_count(const ember_model* m) { return m ? m->n_inputs : 0; }
EMBER_API size_t ember_model_output_count(const ember_model* m) { return m ? m->n_outputs : 0; }

static ember_status io_info(const ember_model* m, size_t index, ember_io_info* info, bool input) {
    size_t count = input ? (m ? m->n_inputs : 0) : (m ? m->n_outputs : 0);
    const char* what = input ? "input" : "output";
    if (!m || !info)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_%s_info: model and info must not be NULL", what);
    if (info->struct_size != sizeof *info)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_io_info.struct_size is %zu, expected %zu",
                        info->struct_size, sizeof *info);
    if (index >= count)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "%s index %zu is out of range: the model has %zu %ss",
                        what, index, count, what);
    const em_tensor* t = &m->tensors[input ? m->inputs[index] : m->outputs[index]];
    info->name = t->name;
    info->dtype = t->dtype;
    info->rank = t->shape.rank;
    for (int d = 0; d < EMBER_MAX_RANK; d++) {
        info->dims[d] = d < t->shape.rank ? t->shape.dims[d] : 0;
        info->dim_names[d] = d < t->shape.rank ? t->dim_names[d] : NULL;
    }
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_model_input_info(const ember_model* m, size_t i, ember_io_info* info) {
    return io_info(m, i, info, true);
}
EMBER_API ember_status ember_model_output_info(const ember_model* m, size_t i, ember_io_info* info) {
    return io_info(m, i, info, false);
}

static ember_status find_io(const ember_model* m, const char* name, size_t* out, bool input) {
    const char* what = input ? "input" : "output";
    if (!m || !name || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_%s_index: arguments must not be NULL", what);
    uint32_t n = input ? m->n_inputs : m->n_outputs;
    const uint32_t* list = input ? m->inputs : m->outputs;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(m->tensors[list[i]].name, name) == 0) {
            *out = i;
            em_clear_error();
            return EMBER_OK;
        }
    return em_error(EMBER_ERROR_NOT_FOUND, "the model has no %s named '%s'", what, name);
}

EMBER_API ember_status ember_model_input_index(const ember_model* m, const char* name, size_t* out) {
    return find_io(m, name, out, true);
}
EMBER_API ember_status ember_model_output_index(const ember_model* m, const char* name, size_t* out) {
    return find_io(m, name, out, false);
}

EMBER_API size_t ember_model_node_count(const ember_model* m) { return m ? m->n_nodes : 0; }
EMBER_API uint64_t ember_model_parameter_count(const ember_model* m) { return m ? m->n_params : 0; }

EMBER_API ember_status ember_model_node_info(const ember_model* m, size_t index, ember_node_info* info) {
    if (!m || !info)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_node_info: model and info must not be NULL");
    if (info->struct_size != sizeof *info)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_node_info.struct_size is %zu, expected %zu",
                        info->struct_size, sizeof *info);
    if (index >= m->n_nodes)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "node index %zu is out of range: the model has %u nodes",
                        index, m->n_nodes);
    const em_node* nd = &m->nodes[index];
    info->name = nd->name;
    info->op_type = nd->op_type;
    info->input_count = nd->n_inputs;
    info->output_count = nd->n_outputs;
    em_clear_error();
    return EMBER_OK;
}

EMBER_API const char* ember_model_metadata(const ember_model* m, const char* key) {
    if (!m || !key) return NULL;
    for (uint32_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0) return m->meta[i].value;
    return NULL;
}

EMBER_API size_t ember_model_metadata_count(const ember_model* m) { return m ? m->n_meta : 0; }

EMBER_API ember_status ember_model_metadata_entry(const ember_model* m, size_t index, const char** key,
                                                  const char** value) {
    if (!m || !key || !value)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_metadata_entry: arguments must not be NULL");
    if (index >= m->n_meta)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "metadata index %zu is out of range: the model has %u entries",
                        index, m->n_meta);
    *key = m->meta[index].key;
    *value = m->meta[index].value;
    em_clear_error();
    return EMBER_OK;
}

EMBER_API size_t ember_model_label_count(const ember_model* m) { return m ? m->n_labels : 0; }
EMBER_API const char* ember_model_label(const ember_model* m, size_t index) {
    return m && index < m->n_labels ? m->labels[index] : NULL;
}
