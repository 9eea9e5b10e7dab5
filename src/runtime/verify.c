/* The verifier: checks every field of a .ember image before anything in it is
 * used, and builds the in-memory model from it. All arithmetic on values read
 * from the file is overflow-checked; every failure names what was wrong. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "format.h"
#include "model.h"
#include "op.h"

#define MAX_SECTIONS 64

typedef struct reader {
    const uint8_t* base;
    uint64_t size;
    const emf_section* sec[EMF_SECTION_KIND_MAX + 1];
    const char* strings;
    uint64_t strings_size;
    uint64_t strings_last_nul;
    const uint32_t* indices;
    uint64_t n_indices;
    const uint8_t* attr_data;
    uint64_t attr_data_size;
    const uint8_t* weights;
    uint64_t weights_size;
    bool lazy_ok;                    /* the caller may check weights when they are first read */
    const emf_checksum* tensor_crcs; /* per-part checksums in use (NULL: the whole file's) */
    uint64_t n_checksums;
} reader;

static ember_status bad(const char* fmt_what, ...) __attribute__((format(printf, 1, 2)));

#include <stdarg.h>
#include <stdio.h>

static ember_status bad(const char* fmt, ...) {
    char buf[EM_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return em_error(EMBER_ERROR_INVALID_MODEL, "invalid model: %s", buf);
}

static const char* section_name(uint32_t kind) {
    static const char* const names[] = {"?",          "STRINGS",   "TENSORS",    "NODES",
                                        "INDICES",    "ATTRIBUTES", "ATTR_DATA", "QUANT",
                                        "METADATA",   "GRAPH",     "WEIGHTS",    "PACKED",
                                        "PACKED_DATA", "CHECKSUMS"};
    return kind <= EMF_SECTION_KIND_MAX ? names[kind] : "unknown";
}

/* A string reference is valid when a NUL follows it inside STRINGS, that is
 * when it is at or before the section's last NUL byte. */
static bool get_string(const reader* r, uint32_t ref, const char** out) {
    if ((uint64_t)ref > r->strings_last_nul) return false;
    *out = r->strings + ref;
    return true;
}

static ember_status check_header(reader* r) {
    if (r->size < sizeof(emf_header))
        return bad("file is %llu bytes, shorter than the 64-byte header",
                   (unsigned long long)r->size);
    const emf_header* h = (const emf_header*)r->base;
    if (memcmp(h->magic, EMF_MAGIC, EMF_MAGIC_SIZE) != 0)
        return bad("bad magic bytes: not an .ember file");
    if (h->version_major != EMF_VERSION_MAJOR)
        return em_error(EMBER_ERROR_UNSUPPORTED,
                        "unsupported format version %u.%u: this library reads version %d.x",
                        h->version_major, h->version_minor, EMF_VERSION_MAJOR);
    if (h->header_size != sizeof(emf_header))
        return bad("header size is %u, expected %zu", h->header_size, sizeof(emf_header));
    if (h->file_size != r->size)
        return bad("header says the file is %llu bytes but it is %llu (truncated or padded?)",
                   (unsigned long long)h->file_size, (unsigned long long)r->size);
    if (h->flags != 0) return bad("header flags are 0x%x, expected 0", h->flags);
    for (int i = 0; i < 5; i++)
        if (h->reserved[i] != 0) return bad("reserved header field %d is not zero", i);
    return EMBER_OK;
}

static ember_status check_whole_file(const reader* r) {
    const emf_header* h = (const emf_header*)r->base;
    uint32_t crc = em_crc32(r->base + sizeof(emf_header), (size_t)(r->size - sizeof(emf_header)));
    if (crc != h->checksum)
        return bad("checksum mismatch (file says 0x%08x, contents give 0x%08x): the file is damaged",
                   h->checksum, crc);
    return EMBER_OK;
}

/* Per-part checksums (CHECKSUMS, 1.2) let a mapped file be checked without
 * reading every weight at load: the section table and every section but
 * WEIGHTS and PACKED_DATA here, each constant's data before it is first read,
 * each packed blob before its first run uses it. They are used only when the
 * caller allows it and they cover the whole file in the way docs/FORMAT.md
 * describes; otherwise (a model from memory, no or an unfamiliar CHECKSUMS
 * section) the header's whole-file checksum is checked, which every writer
 * keeps valid for readers that know nothing of CHECKSUMS. */
static ember_status check_integrity(reader* r) {
    const emf_header* h = (const emf_header*)r->base;
    const emf_section* cs = r->sec[EMF_SECTION_CHECKSUMS];
    if (!r->lazy_ok || !cs || cs->size == 0) return check_whole_file(r);
    const emf_checksum* c = (const emf_checksum*)(r->base + cs->offset);
    const uint64_t n = cs->size / sizeof(emf_checksum);
    if (c[0].kind != EMF_CHECKSUM_SELF || c[0].index != 0 || c[0].reserved != 0)
        return bad("CHECKSUMS section does not start with its own checksum record");
    const uint32_t self = em_crc32(c + 1, (size_t)(cs->size - sizeof *c));
    if (self != c[0].crc)
        return bad("CHECKSUMS section is damaged (it says 0x%08x, its records give 0x%08x)",
                   c[0].crc, self);
    /* First pass: only kinds and fields this reader knows, and every part covered. */
    const emf_section* table = (const emf_section*)(r->base + h->section_table_offset);
    bool table_covered = false;
    for (uint64_t i = 1; i < n; i++) {
        if (c[i].reserved != 0 || c[i].kind == EMF_CHECKSUM_SELF || c[i].kind > EMF_CHECKSUM_TENSOR)
            return check_whole_file(r);
        if (c[i].kind == EMF_CHECKSUM_SECTION_TABLE) table_covered = true;
    }
    if (!table_covered) return check_whole_file(r);
    for (uint32_t k = 0; k < h->section_count; k++) {
        if (!emf_checked_whole(table[k].kind)) continue;
        bool found = false;
        for (uint64_t i = 1; i < n && !found; i++)
            found = c[i].kind == EMF_CHECKSUM_SECTION && c[i].index == table[k].kind;
        if (!found) return check_whole_file(r);
    }
    /* Second pass: check what is checked at load. */
    for (uint64_t i = 1; i < n; i++) {
        const uint8_t* p = NULL;
        uint64_t bytes = 0;
        if (c[i].kind == EMF_CHECKSUM_SECTION_TABLE) {
            if (c[i].index != 0) return bad("CHECKSUMS record %llu: section table index %u is not 0",
                                            (unsigned long long)i, c[i].index);
            p = r->base + h->section_table_offset;
            bytes = (uint64_t)h->section_count * sizeof(emf_section);
        } else if (c[i].kind == EMF_CHECKSUM_SECTION) {
            const emf_section* s = NULL;
            for (uint32_t k = 0; k < h->section_count && !s; k++)
                if (table[k].kind == c[i].index) s = &table[k];
            if (!s || !emf_checked_whole(s->kind))
                return bad("CHECKSUMS record %llu names section kind %u, which %s",
                           (unsigned long long)i, c[i].index,
                           s ? "is checked in pieces, not whole" : "the file does not have");
            p = r->base + s->offset;
            bytes = s->size;
        } else {
            continue; /* a tensor: checked when its data is first read */
        }
        const uint32_t crc = em_crc32(p, (size_t)bytes);
        if (crc != c[i].crc)
            return bad("checksum mismatch in %s (file says 0x%08x, contents give 0x%08x): the file "
                       "is damaged",
                       c[i].kind == EMF_CHECKSUM_SECTION_TABLE ? "the section table"
                                                               : section_name(c[i].index),
                       c[i].crc, crc);
    }
    r->tensor_crcs = c;
    r->n_checksums = n;
    return EMBER_OK;
}

/* With per-part checksums: every constant gets its CRC, checked before its
 * data is first read (em_tensor.crc_pending). */
static ember_status attach_tensor_crcs(const reader* r, ember_model* m) {
    if (!r->tensor_crcs) return EMBER_OK;
    for (uint64_t i = 1; i < r->n_checksums; i++) {
        const emf_checksum* c = &r->tensor_crcs[i];
        if (c->kind != EMF_CHECKSUM_TENSOR) continue;
        if (c->index >= m->n_tensors || !m->tensors[c->index].data)
            return bad("CHECKSUMS record %llu names tensor %u, which is not a constant",
                       (unsigned long long)i, c->index);
        em_tensor* t = &m->tensors[c->index];
        if (t->crc_pending) return bad("CHECKSUMS lists constant tensor '%s' twice", t->name);
        t->crc_pending = true;
        t->crc = c->crc;
    }
    for (uint32_t t = 0; t < m->n_tensors; t++)
        if (m->tensors[t].data && !m->tensors[t].crc_pending)
            return bad("constant tensor '%s' has no checksum in CHECKSUMS", m->tensors[t].name);
    return EMBER_OK;
}

/* PACKED (1.2): pre-packed weights. Each record is checked here; whether the
 * blob is used (its layout is the default path's) is decided when the
 * model's weights are packed (plan.c). */
static ember_status build_packed(const reader* r, ember_model* m) {
    const emf_section* s = r->sec[EMF_SECTION_PACKED];
    if (!s || s->size == 0) return EMBER_OK;
    const emf_section* d = r->sec[EMF_SECTION_PACKED_DATA];
    const emf_packed* f = (const emf_packed*)(r->base + s->offset);
    const uint64_t n = s->size / sizeof(emf_packed);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t end;
        if (f[i].node >= m->n_nodes)
            return bad("PACKED record %llu: node %u is out of range (%u nodes)",
                       (unsigned long long)i, f[i].node, m->n_nodes);
        em_node* nd = &m->nodes[f[i].node];
        if (f[i].reserved != 0) return bad("PACKED record %llu: reserved field is not zero", (unsigned long long)i);
        if (nd->file_packed)
            return bad("PACKED lists node '%s' twice", nd->name);
        if (!d || f[i].size == 0 || f[i].offset % EMF_ALIGN != 0 ||
            !em_add_u64(f[i].offset, f[i].size, &end) || end > d->size)
            return bad("PACKED record for node '%s': blob [%llu, +%llu) is empty, misaligned or "
                       "outside PACKED_DATA (%llu bytes)",
                       nd->name, (unsigned long long)f[i].offset, (unsigned long long)f[i].size,
                       (unsigned long long)(d ? d->size : 0));
        const char* lay = f[i].layout;
        size_t len = 0;
        while (len < EMF_PACK_LAYOUT_SIZE && lay[len]) {
            if (lay[len] < 0x20 || lay[len] > 0x7e)
                return bad("PACKED record for node '%s': layout name is not printable ASCII", nd->name);
            len++;
        }
        if (len == 0 || len == EMF_PACK_LAYOUT_SIZE)
            return bad("PACKED record for node '%s': layout name is empty or not NUL-terminated",
                       nd->name);
        for (size_t k = len; k < EMF_PACK_LAYOUT_SIZE; k++)
            if (lay[k]) return bad("PACKED record for node '%s': layout name is not NUL-padded", nd->name);
        nd->file_packed = r->base + d->offset + f[i].offset;
        nd->file_packed_size = (size_t)f[i].size;
        nd->file_packed_crc = f[i].crc;
        nd->file_packed_layout = lay;
        /* with the whole-file checksum the blob is checked already */
        nd->packed_check = r->tensor_crcs ? 1 : 0;
    }
    return EMBER_OK;
}

static int cmp_section_offset(const void* a, const void* b) {
    const emf_section* x = *(const emf_section* const*)a;
    const emf_section* y = *(const emf_section* const*)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static ember_status check_sections(reader* r) {
    const emf_header* h = (const emf_header*)r->base;
    uint64_t table_end;
    if (h->section_count == 0 || h->section_count > MAX_SECTIONS)
        return bad("section count %u is outside 1..%d", h->section_count, MAX_SECTIONS);
    if (h->section_table_offset != sizeof(emf_header))
        return bad("section table offset is %llu, expected 64 (right after the header)",
                   (unsigned long long)h->section_table_offset);
    if (!em_add_u64(h->section_table_offset, (uint64_t)h->section_count * sizeof(emf_section),
                    &table_end) ||
        table_end > r->size)
        return bad("section table (%u entries at offset %llu) extends past the end of the file",
                   h->section_count, (unsigned long long)h->section_table_offset);
    const emf_section* table = (const emf_section*)(r->base + h->section_table_offset);
    const emf_section* sorted[MAX_SECTIONS];
    for (uint32_t i = 0; i < h->section_count; i++) {
        const emf_section* s = &table[i];
        uint64_t end;
        if (s->kind == 0) return bad("section %u has kind 0", i);
        if (s->reserved != 0) return bad("section %u: reserved field is not zero", i);
        if (s->offset % EMF_ALIGN != 0)
            return bad("section %u (%s): offset %llu is not 64-byte aligned", i,
                       section_name(s->kind), (unsigned long long)s->offset);
        if (s->offset < table_end || !em_add_u64(s->offset, s->size, &end) || end > r->size)
            return bad("section %u (%s): bytes [%llu, +%llu) are outside the file's data area "
                       "[%llu, %llu)",
                       i, section_name(s->kind), (unsigned long long)s->offset,
                       (unsigned long long)s->size, (unsigned long long)table_end,
                       (unsigned long long)r->size);
        for (uint32_t k = 0; k < i; k++)
            if (table[k].kind == s->kind)
                return bad("section kind %u (%s) appears twice", s->kind, section_name(s->kind));
        /* unknown kinds come from a newer minor version: checked for placement, then skipped */
        if (s->kind <= EMF_SECTION_KIND_MAX) r->sec[s->kind] = s;
        sorted[i] = s;
    }
    qsort(sorted, h->section_count, sizeof sorted[0], cmp_section_offset);
    /* Empty sections occupy no bytes; the bytes in no section must be zero. */
    uint64_t covered = table_end;
    const emf_section* prev = NULL;
    for (uint32_t i = 0; i < h->section_count; i++) {
        const emf_section* s = sorted[i];
        if (s->size == 0) continue;
        if (prev && s->offset < covered)
            return bad("sections %s and %s overlap", section_name(prev->kind), section_name(s->kind));
        for (uint64_t b = covered; b < s->offset; b++)
            if (r->base[b] != 0) return bad("padding byte at offset %llu is not zero", (unsigned long long)b);
        covered = s->offset + s->size;
        prev = s;
    }
    for (uint64_t b = covered; b < r->size; b++)
        if (r->base[b] != 0) return bad("padding byte at offset %llu is not zero", (unsigned long long)b);
    static const uint32_t required[] = {EMF_SECTION_STRINGS, EMF_SECTION_TENSORS, EMF_SECTION_NODES,
                                        EMF_SECTION_INDICES, EMF_SECTION_GRAPH};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!r->sec[required[i]])
            return bad("required section %s is missing", section_name(required[i]));
    static const struct {
        uint32_t kind;
        uint32_t record;
    } records[] = {{EMF_SECTION_TENSORS, sizeof(emf_tensor)}, {EMF_SECTION_NODES, sizeof(emf_node)},
                   {EMF_SECTION_INDICES, 4},                  {EMF_SECTION_ATTRIBUTES, sizeof(emf_attr)},
                   {EMF_SECTION_QUANT, sizeof(emf_quant)},    {EMF_SECTION_METADATA, sizeof(emf_meta)},
                   {EMF_SECTION_GRAPH, sizeof(emf_graph)},    {EMF_SECTION_PACKED, sizeof(emf_packed)},
                   {EMF_SECTION_CHECKSUMS, sizeof(emf_checksum)}};
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        const emf_section* s = r->sec[records[i].kind];
        if (s && s->size % records[i].record != 0)
            return bad("section %s is %llu bytes, not a multiple of its %u-byte records",
                       section_name(s->kind), (unsigned long long)s->size, records[i].record);
        if (s && s->size / records[i].record >= EMF_NONE)
            return bad("section %s holds more than %u records", section_name(s->kind), EMF_NONE - 1);
    }
    const emf_section* st = r->sec[EMF_SECTION_STRINGS];
    r->strings = (const char*)(r->base + st->offset);
    r->strings_size = st->size;
    if (st->size == 0 || r->strings[0] != '\0')
        return bad("STRINGS section must start with a NUL byte");
    r->strings_last_nul = st->size - 1;
    while (r->strings[r->strings_last_nul] != '\0') r->strings_last_nul--;
    r->indices = (const uint32_t*)(r->base + r->sec[EMF_SECTION_INDICES]->offset);
    r->n_indices = r->sec[EMF_SECTION_INDICES]->size / 4;
    if (r->sec[EMF_SECTION_ATTR_DATA]) {
        r->attr_data = r->base + r->sec[EMF_SECTION_ATTR_DATA]->offset;
        r->attr_data_size = r->sec[EMF_SECTION_ATTR_DATA]->size;
    }
    if (r->sec[EMF_SECTION_WEIGHTS]) {
        r->weights = r->base + r->sec[EMF_SECTION_WEIGHTS]->offset;
        r->weights_size = r->sec[EMF_SECTION_WEIGHTS]->size;
    }
    if (r->sec[EMF_SECTION_GRAPH]->size != sizeof(emf_graph))
        return bad("GRAPH section must hold exactly one record");
    return EMBER_OK;
}

/* [offset, offset + count * elem) inside ATTR_DATA, offset aligned to align. */
static bool attr_data_range(const reader* r, uint64_t offset, uint64_t count, uint64_t elem,
                            uint64_t align, const void** out) {
    uint64_t bytes, end;
    if (offset % align != 0) return false;
    if (!em_mul_u64(count, elem, &bytes) || !em_add_u64(offset, bytes, &end)) return false;
    if (end > r->attr_data_size) return false;
    *out = count ? r->attr_data + offset : NULL;
    return true;
}

static ember_status build_quant(reader* r, ember_model* m, uint32_t* n_quant) {
    const emf_section* s = r->sec[EMF_SECTION_QUANT];
    *n_quant = 0;
    if (!s) return EMBER_OK;
    uint64_t n = s->size / sizeof(emf_quant);
    if (n > UINT32_MAX - 1) return bad("too many quantization records");
    const emf_quant* q = (const emf_quant*)(r->base + s->offset);
    m->quants = calloc(n ? n : 1, sizeof *m->quants);
    if (!m->quants) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading quantization");
    for (uint64_t i = 0; i < n; i++) {
        const void* sc;
        const void* zp;
        if (q[i].axis < -1) return bad("quantization record %llu: axis %d < -1", (unsigned long long)i, q[i].axis);
        if (q[i].axis == -1 && q[i].count != 1)
            return bad("quantization record %llu: per-tensor parameters need count 1, got %u",
                       (unsigned long long)i, q[i].count);
        if (q[i].count == 0) return bad("quantization record %llu: count is 0", (unsigned long long)i);
        if (q[i].block_size != 0 || q[i].reserved != 0)
            return bad("quantization record %llu: block_size and reserved must be 0", (unsigned long long)i);
        if (!attr_data_range(r, q[i].scale_offset, q[i].count, 4, 4, &sc) ||
            !attr_data_range(r, q[i].zero_point_offset, q[i].count, 4, 4, &zp))
            return bad("quantization record %llu: scale or zero-point array is misaligned or "
                       "outside ATTR_DATA", (unsigned long long)i);
        m->quants[i] = (em_quant){.axis = q[i].axis, .count = q[i].count, .scales = sc,
                                  .zero_points = zp};
    }
    *n_quant = (uint32_t)n;
    return EMBER_OK;
}

static int cmp_name(const void* a, const void* b) {
    return strcmp(*(const char* const*)a, *(const char* const*)b);
}

/* First duplicate among names (sorted in place), or NULL. */
static const char* find_duplicate(const char** names, size_t n) {
    qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) return names[i];
    return NULL;
}

static ember_status build_tensors(reader* r, ember_model* m, uint32_t n_quant) {
    const emf_section* s = r->sec[EMF_SECTION_TENSORS];
    uint64_t n = s->size / sizeof(emf_tensor);
    if (n == 0) return bad("the model has no tensors");
    if (n >= EM_NONE) return bad("too many tensors");
    const emf_tensor* t = (const emf_tensor*)(r->base + s->offset);
    m->n_tensors = (uint32_t)n;
    m->tensors = calloc(n, sizeof *m->tensors);
    const char** names = malloc(n * sizeof *names);
    if (!m->tensors || !names) {
        free(names);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading %llu tensors",
                        (unsigned long long)n);
    }
    ember_status st = EMBER_OK;
    for (uint32_t i = 0; i < n && st == EMBER_OK; i++) {
        const emf_tensor* f = &t[i];
        em_tensor* e = &m->tensors[i];
        if (!get_string(r, f->name, &e->name) || e->name[0] == '\0') {
            st = bad("tensor %u: name is empty or outside STRINGS", i);
            break;
        }
        names[i] = e->name;
        e->producer = EM_NONE;
        if (f->dtype < EMBER_DTYPE_F32 || f->dtype > EMBER_DTYPE_BOOL) {
            st = bad("tensor '%s': unknown dtype %u", e->name, f->dtype);
            break;
        }
        e->dtype = (ember_dtype)f->dtype;
        if (f->rank > EMF_MAX_RANK) {
            st = bad("tensor '%s': rank %u exceeds %d", e->name, f->rank, EMF_MAX_RANK);
            break;
        }
        if (f->flags & ~EMF_TENSOR_CONSTANT || f->reserved0 || f->reserved1) {
            st = bad("tensor '%s': unknown flags or non-zero reserved fields", e->name);
            break;
        }
        e->shape.rank = f->rank;
        bool symbolic = false;
        for (uint32_t d = 0; d < EMF_MAX_RANK && st == EMBER_OK; d++) {
            if (d >= f->rank) {
                if (f->dims[d] != 0 || f->dim_names[d] != 0)
                    st = bad("tensor '%s': dimension %u beyond rank %u is not zero", e->name, d, f->rank);
                continue;
            }
            e->shape.dims[d] = f->dims[d];
            if (f->dims[d] == -1) {
                if (f->dim_names[d] == 0 || !get_string(r, f->dim_names[d], &e->dim_names[d]) ||
                    e->dim_names[d][0] == '\0')
                    st = bad("tensor '%s': symbolic dimension %u has no valid name", e->name, d);
                symbolic = true;
            } else if (f->dims[d] < 0 || f->dim_names[d] != 0) {
                st = bad("tensor '%s': dimension %u is %lld (must be >= 0, or -1 with a symbol name)",
                         e->name, d, (long long)f->dims[d]);
            }
        }
        if (st != EMBER_OK) break;
        if (f->quant != EMF_NONE) {
            if (f->quant >= n_quant) {
                st = bad("tensor '%s': quantization index %u out of range (%u records)", e->name,
                         f->quant, n_quant);
                break;
            }
            const em_quant* q = &m->quants[f->quant];
            if (q->axis >= 0 && (q->axis >= f->rank || symbolic ||
                                 (uint64_t)f->dims[q->axis] != q->count)) {
                st = bad("tensor '%s': per-channel quantization on axis %d has %u entries, which "
                         "does not match its shape", e->name, q->axis, q->count);
                break;
            }
            e->quant = q;
        }
        if (f->flags & EMF_TENSOR_CONSTANT) {
            uint64_t numel, bytes, end;
            if (symbolic) {
                st = bad("constant tensor '%s' has a symbolic dimension", e->name);
                break;
            }
            if (!em_shape_numel(&e->shape, &numel) ||
                !em_mul_u64(numel, ember_dtype_size(e->dtype), &bytes)) {
                st = bad("constant tensor '%s': element count overflows", e->name);
                break;
            }
            if (m->limits.max_tensor_elements && numel > m->limits.max_tensor_elements) {
                st = em_error(EMBER_ERROR_LIMIT_EXCEEDED,
                              "tensor '%s' has %llu elements, over the limit of %llu", e->name,
                              (unsigned long long)numel,
                              (unsigned long long)m->limits.max_tensor_elements);
                break;
            }
            if (bytes != f->data_size) {
                st = bad("constant tensor '%s': data is %llu bytes, its shape and dtype need %llu",
                         e->name, (unsigned long long)f->data_size, (unsigned long long)bytes);
                break;
            }
            if (f->data_offset % EMF_ALIGN != 0 || !em_add_u64(f->data_offset, f->data_size, &end) ||
                end > r->weights_size) {
                st = bad("constant tensor '%s': data [%llu, +%llu) is misaligned or outside WEIGHTS "
                         "(%llu bytes)", e->name, (unsigned long long)f->data_offset,
                         (unsigned long long)f->data_size, (unsigned long long)r->weights_size);
                break;
            }
            /* A constant always has a non-NULL pointer, even with no bytes and
             * no WEIGHTS section: data != NULL is what marks constants. */
            e->data = r->weights ? r->weights + f->data_offset : r->base;
            e->data_size = (size_t)f->data_size;
            m->n_params += numel;
            m->weight_bytes += bytes;
        } else if (f->data_offset != 0 || f->data_size != 0) {
            st = bad("tensor '%s' is not constant but has data", e->name);
            break;
        }
    }
    if (st == EMBER_OK) {
        const char* dup = find_duplicate(names, n);
        if (dup) st = bad("two tensors are named '%s'", dup);
    }
    free(names);
    return st;
}

static ember_status build_attrs(reader* r, ember_model* m, uint64_t* n_out) {
    const emf_section* s = r->sec[EMF_SECTION_ATTRIBUTES];
    *n_out = 0;
    if (!s) return EMBER_OK;
    uint64_t n = s->size / sizeof(emf_attr);
    const emf_attr* a = (const emf_attr*)(r->base + s->offset);
    m->attrs = calloc(n ? n : 1, sizeof *m->attrs);
    if (!m->attrs) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading attributes");
    for (uint64_t i = 0; i < n; i++) {
        em_attr* e = &m->attrs[i];
        const void* p;
        if (!get_string(r, a[i].name, &e->name) || e->name[0] == '\0')
            return bad("attribute %llu: name is empty or outside STRINGS", (unsigned long long)i);
        if (a[i].reserved != 0) return bad("attribute '%s': reserved field is not zero", e->name);
        e->type = a[i].type;
        switch (a[i].type) {
        case EMF_ATTR_INT:
            if (a[i].count != 0) return bad("attribute '%s': count must be 0 for an int", e->name);
            memcpy(&e->i, &a[i].value, sizeof e->i);
            break;
        case EMF_ATTR_FLOAT: {
            uint32_t bits = (uint32_t)a[i].value;
            if (a[i].value >> 32 || a[i].count != 0)
                return bad("attribute '%s': a float uses the low 32 bits only", e->name);
            memcpy(&e->f, &bits, sizeof e->f);
            break;
        }
        case EMF_ATTR_STRING:
            if (a[i].value > UINT32_MAX || !get_string(r, (uint32_t)a[i].value, &e->s) ||
                a[i].count != 0)
                return bad("attribute '%s': string reference is outside STRINGS", e->name);
            break;
        case EMF_ATTR_INTS:
            if (!attr_data_range(r, a[i].value, a[i].count, 8, 8, &p))
                return bad("attribute '%s': %u ints at offset %llu are misaligned or outside "
                           "ATTR_DATA", e->name, a[i].count, (unsigned long long)a[i].value);
            e->ints = p;
            e->count = a[i].count;
            break;
        case EMF_ATTR_FLOATS:
            if (!attr_data_range(r, a[i].value, a[i].count, 4, 4, &p))
                return bad("attribute '%s': %u floats at offset %llu are misaligned or outside "
                           "ATTR_DATA", e->name, a[i].count, (unsigned long long)a[i].value);
            e->floats = p;
            e->count = a[i].count;
            break;
        default:
            return bad("attribute '%s': unknown type %u", e->name, a[i].type);
        }
    }
    *n_out = n;
    return EMBER_OK;
}

/* first + count inside [0, total). */
static bool in_range(uint32_t first, uint32_t count, uint64_t total) {
    return (uint64_t)first + count <= total;
}

#define MAX_NODE_ATTRS 256

static ember_status build_nodes(reader* r, ember_model* m, uint64_t n_attrs) {
    const emf_section* s = r->sec[EMF_SECTION_NODES];
    uint64_t n = s->size / sizeof(emf_node);
    uint64_t max_nodes = m->limits.max_nodes ? m->limits.max_nodes : EM_MAX_NODES;
    if (n > max_nodes)
        return em_error(n > EM_MAX_NODES ? EMBER_ERROR_UNSUPPORTED : EMBER_ERROR_LIMIT_EXCEEDED,
                        "the graph has %llu nodes, over the limit of %llu", (unsigned long long)n,
                        (unsigned long long)max_nodes);
    const emf_node* f = (const emf_node*)(r->base + s->offset);
    m->n_nodes = (uint32_t)n;
    m->nodes = calloc(n ? n : 1, sizeof *m->nodes);
    if (!m->nodes) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading nodes");
    for (uint32_t i = 0; i < n; i++) {
        em_node* e = &m->nodes[i];
        if (!get_string(r, f[i].name, &e->name)) return bad("node %u: name is outside STRINGS", i);
        if (!get_string(r, f[i].op_type, &e->op_type) || e->op_type[0] == '\0')
            return bad("node %u ('%s'): op type is empty or outside STRINGS", i, e->name);
        if (!in_range(f[i].input_first, f[i].input_count, r->n_indices) ||
            !in_range(f[i].output_first, f[i].output_count, r->n_indices))
            return bad("node '%s' (%s): input or output list is outside INDICES", e->name, e->op_type);
        if (!in_range(f[i].attr_first, f[i].attr_count, n_attrs))
            return bad("node '%s' (%s): attribute list is outside ATTRIBUTES", e->name, e->op_type);
        if (f[i].attr_count > MAX_NODE_ATTRS)
            return bad("node '%s' (%s): %u attributes, at most %d allowed", e->name, e->op_type,
                       f[i].attr_count, MAX_NODE_ATTRS);
        if (f[i].activation > EMF_ACT_MAX)
            return bad("node '%s' (%s): unknown fused activation %u", e->name, e->op_type,
                       f[i].activation);
        if (f[i].reserved != 0) return bad("node '%s': reserved field is not zero", e->name);
        if (f[i].output_count == 0) return bad("node '%s' (%s) has no outputs", e->name, e->op_type);
        e->n_inputs = f[i].input_count;
        e->n_outputs = f[i].output_count;
        e->inputs = r->indices + f[i].input_first;
        e->outputs = r->indices + f[i].output_first;
        e->n_attrs = f[i].attr_count;
        e->attrs = m->attrs ? m->attrs + f[i].attr_first : NULL;
        e->act = (em_activation){.kind = f[i].activation, .alpha = f[i].act_alpha,
                                 .beta = f[i].act_beta};
        for (uint32_t k = 0; k < e->n_inputs; k++)
            if (e->inputs[k] != EMF_NONE && e->inputs[k] >= m->n_tensors)
                return bad("node '%s' (%s): input %u refers to tensor %u, but there are %u",
                           e->name, e->op_type, k, e->inputs[k], m->n_tensors);
        for (uint32_t k = 0; k < e->n_outputs; k++)
            if (e->outputs[k] >= m->n_tensors)
                return bad("node '%s' (%s): output %u refers to tensor %u, but there are %u",
                           e->name, e->op_type, k, e->outputs[k], m->n_tensors);
        for (uint32_t a = 0; a < e->n_attrs; a++)
            for (uint32_t b = a + 1; b < e->n_attrs; b++)
                if (strcmp(e->attrs[a].name, e->attrs[b].name) == 0)
                    return bad("node '%s' (%s): attribute '%s' appears twice", e->name, e->op_type,
                               e->attrs[a].name);
    }
    return EMBER_OK;
}

static ember_status build_graph(reader* r, ember_model* m) {
    const emf_graph* g = (const emf_graph*)(r->base + r->sec[EMF_SECTION_GRAPH]->offset);
    if (!in_range(g->input_first, g->input_count, r->n_indices) ||
        !in_range(g->output_first, g->output_count, r->n_indices))
        return bad("graph input or output list is outside INDICES");
    if (g->output_count == 0) return bad("the graph has no outputs");
    m->n_inputs = g->input_count;
    m->inputs = r->indices + g->input_first;
    m->n_outputs = g->output_count;
    m->outputs = r->indices + g->output_first;
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        uint32_t t = m->inputs[i];
        if (t >= m->n_tensors) return bad("graph input %u refers to tensor %u, but there are %u", i, t, m->n_tensors);
        em_tensor* e = &m->tensors[t];
        if (e->data) return bad("graph input '%s' is a constant", e->name);
        if (e->is_input) return bad("graph input '%s' is listed twice", e->name);
        e->is_input = true;
    }
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        uint32_t t = m->outputs[i];
        if (t >= m->n_tensors) return bad("graph output %u refers to tensor %u, but there are %u", i, t, m->n_tensors);
        em_tensor* e = &m->tensors[t];
        if (e->is_output) return bad("graph output '%s' is listed twice", e->name);
        e->is_output = true;
    }
    /* Single producer, and topological order: an input must already exist. */
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_inputs; k++) {
            uint32_t t = nd->inputs[k];
            if (t == EMF_NONE) continue;
            const em_tensor* e = &m->tensors[t];
            if (!e->data && !e->is_input && e->producer == EM_NONE)
                return bad("node '%s' (%s) reads tensor '%s' before any node produces it "
                           "(the nodes are not in topological order, or the graph has a cycle)",
                           nd->name, nd->op_type, e->name);
        }
        for (uint32_t k = 0; k < nd->n_outputs; k++) {
            em_tensor* e = &m->tensors[nd->outputs[k]];
            if (e->data || e->is_input)
                return bad("node '%s' (%s) writes '%s', which is a %s", nd->name, nd->op_type,
                           e->name, e->data ? "constant" : "graph input");
            if (e->producer != EM_NONE)
                return bad("tensor '%s' is produced twice (by nodes %u and %u)", e->name,
                           e->producer, i);
            e->producer = i;
        }
    }
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        const em_tensor* e = &m->tensors[m->outputs[i]];
        if (!e->is_input && e->producer == EM_NONE)
            return bad("graph output '%s' is produced by no node", e->name);
    }
    return EMBER_OK;
}

static ember_status build_metadata(reader* r, ember_model* m) {
    const emf_section* s = r->sec[EMF_SECTION_METADATA];
    if (!s) return EMBER_OK;
    uint64_t n = s->size / sizeof(emf_meta);
    if (n > 65536) return bad("%llu metadata entries, at most 65536 allowed", (unsigned long long)n);
    const emf_meta* f = (const emf_meta*)(r->base + s->offset);
    m->meta = calloc(n ? n : 1, sizeof *m->meta);
    const char** keys = malloc((n ? n : 1) * sizeof *keys);
    if (!m->meta || !keys) {
        free(keys);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading metadata");
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!get_string(r, f[i].key, &m->meta[i].key) || m->meta[i].key[0] == '\0' ||
            !get_string(r, f[i].value, &m->meta[i].value)) {
            free(keys);
            return bad("metadata entry %u: key is empty or a string is outside STRINGS", i);
        }
        keys[i] = m->meta[i].key;
    }
    m->n_meta = (uint32_t)n;
    const char* dup = find_duplicate(keys, n);
    free(keys);
    if (dup) return bad("metadata key '%s' appears twice", dup);
    return EMBER_OK;
}

static ember_status split_labels(ember_model* m) {
    const char* text = NULL;
    for (uint32_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, "labels") == 0) text = m->meta[i].value;
    if (!text || !*text) return EMBER_OK;
    size_t len = strlen(text), n = 1;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    if (text[len - 1] == '\n') n--;
    m->labels_text = malloc(len + 1);
    m->labels = malloc(n * sizeof *m->labels);
    if (!m->labels_text || !m->labels) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading labels");
    memcpy(m->labels_text, text, len + 1);
    char* p = m->labels_text;
    for (size_t i = 0; i < n; i++) {
        m->labels[i] = p;
        char* nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        }
    }
    m->n_labels = (uint32_t)n;
    return EMBER_OK;
}

static ember_status init_operators(ember_model* m) {
    /* Every unsupported operator is reported, not just the first. */
    char list[EM_MSG_CAP] = "";
    size_t used = 0;
    uint32_t missing = 0;
    size_t params_total = 0;
    const char* seen[32];
    uint32_t n_seen = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        em_node* nd = &m->nodes[i];
        nd->op = em_op_find(nd->op_type);
        if (nd->op) {
            params_total += em_align_up(nd->op->params_size, 16);
            continue;
        }
        uint32_t k = 0;
        while (k < n_seen && strcmp(seen[k], nd->op_type) != 0) k++;
        if (k < n_seen) continue; /* this op type is listed already */
        if (n_seen < 32) seen[n_seen++] = nd->op_type;
        if (used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s (node '%s')",
                                     missing ? ", " : "", nd->op_type, nd->name);
        missing++;
    }
    if (missing)
        return em_error(EMBER_ERROR_UNSUPPORTED, "unsupported operator%s: %s", missing > 1 ? "s" : "",
                        list);
    m->params_block = calloc(1, params_total ? params_total : 1);
    if (!m->params_block) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory for operator parameters");
    size_t off = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        em_node* nd = &m->nodes[i];
        char msg[EM_MSG_CAP];
        msg[0] = '\0';
        nd->params = nd->op->params_size ? (char*)m->params_block + off : NULL;
        off += em_align_up(nd->op->params_size, 16);
        ember_status st = em_node_init(nd, nd->params, msg);
        if (st != EMBER_OK)
            return em_error(st == EMBER_ERROR_UNSUPPORTED ? st : EMBER_ERROR_INVALID_MODEL,
                            "invalid model: node '%s' (%s): %s", nd->name, nd->op_type, msg);
    }
    return EMBER_OK;
}

ember_status em_model_verify_and_build(const uint8_t* base, size_t size, ember_model* m) {
    reader r = {.base = base, .size = size, .lazy_ok = m->mapped};
    uint32_t n_quant = 0;
    uint64_t n_attrs = 0;
    ember_status st;
    if ((st = check_header(&r)) != EMBER_OK) return st;
    if ((st = check_sections(&r)) != EMBER_OK) return st;
    if ((st = check_integrity(&r)) != EMBER_OK) return st;
    if ((st = build_quant(&r, m, &n_quant)) != EMBER_OK) return st;
    if ((st = build_tensors(&r, m, n_quant)) != EMBER_OK) return st;
    m->weights = r.weights;
    m->weights_size = (size_t)r.weights_size;
    if ((st = attach_tensor_crcs(&r, m)) != EMBER_OK) return st;
    if ((st = build_attrs(&r, m, &n_attrs)) != EMBER_OK) return st;
    if ((st = build_nodes(&r, m, n_attrs)) != EMBER_OK) return st;
    if ((st = build_packed(&r, m)) != EMBER_OK) return st;
    if ((st = build_graph(&r, m)) != EMBER_OK) return st;
    if ((st = build_metadata(&r, m)) != EMBER_OK) return st;
    if ((st = split_labels(m)) != EMBER_OK) return st;
    return init_operators(m);
}
