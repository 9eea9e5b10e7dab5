/* ember_model_pack_file: a copy of a .ember file with its weights pre-packed
 * for one kernel path (PACKED, PACKED_DATA) and per-part checksums
 * (CHECKSUMS), so that loading it neither packs nor reads every weight
 * (docs/FORMAT.md, sections 8 and 9). The packing is the runtime's own pack
 * hooks, so the blobs are exactly what a session would have packed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "format.h"
#include "model.h"

static ember_status read_whole_file(const char* path, uint8_t** out, size_t* size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return em_error(EMBER_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return em_error(EMBER_ERROR_IO, "'%s' is not a readable regular file", path);
    }
    uint8_t* buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
    if (!buf) {
        close(fd);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory reading '%s'", path);
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            free(buf);
            return em_error(EMBER_ERROR_IO, "cannot read '%s': %s", path, strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *size = got;
    return EMBER_OK;
}

/* Writes to a new file beside path, then renames it over path: a failure at
 * any point leaves path as it was (it may be the source file). */
static ember_status write_atomically(const char* path, const uint8_t* data, size_t size) {
    const size_t n = strlen(path) + 32;
    char* tmp = malloc(n);
    if (!tmp) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory writing '%s'", path);
    int fd = -1;
    for (unsigned k = 0; k < 100 && fd < 0; k++) {
        snprintf(tmp, n, "%s.tmp%ld.%u", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        ember_status st = em_error(EMBER_ERROR_IO, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    size_t done = 0;
    int e = 0;
    while (done < size && !e) {
        ssize_t w = write(fd, data + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            e = w < 0 ? errno : EIO;
        else
            done += (size_t)w;
    }
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        ember_status st = em_error(EMBER_ERROR_IO, "cannot write '%s': %s", path, strerror(e));
        free(tmp);
        return st;
    }
    free(tmp);
    return EMBER_OK;
}

static bool is_pack_section(uint32_t kind) {
    return kind == EMF_SECTION_PACKED || kind == EMF_SECTION_PACKED_DATA ||
           kind == EMF_SECTION_CHECKSUMS;
}

typedef struct packed_set {
    size_t* bytes;       /* per node: blob size (0: the node does not pack) */
    uint64_t* offset;    /* per node: offset in PACKED_DATA */
    uint8_t* data;       /* PACKED_DATA */
    uint64_t data_size;
    uint32_t count;
} packed_set;

static void packed_set_free(packed_set* ps) {
    free(ps->bytes);
    free(ps->offset);
    em_aligned_free(ps->data);
}

/* Packs every node that packs, with the plan's kernel table. */
static ember_status pack_nodes(const ember_model* m, const em_plan* p, packed_set* ps) {
    const uint32_t nn = m->n_nodes;
    ps->bytes = calloc(nn ? nn : 1, sizeof *ps->bytes);
    ps->offset = calloc(nn ? nn : 1, sizeof *ps->offset);
    if (!ps->bytes || !ps->offset) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory packing");
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    char msg[EM_MSG_CAP];
    for (int pass = 0; pass < 2; pass++) {
        uint64_t off = 0;
        for (uint32_t i = 0; i < nn; i++) {
            const em_node* nd = &m->nodes[i];
            if (!nd->op->packed_bytes || !nd->op->pack) continue;
            /* the plan's table: the path this file is packed for */
            em_op_ctx ctx = em_plan_node_ctx(p, nd, p->kern, in, out, msg);
            if (pass == 0) {
                ps->bytes[i] = nd->op->packed_bytes(&ctx);
                if (!ps->bytes[i]) continue;
                ps->offset[i] = off;
                if (!em_add_u64(off, em_align_up(ps->bytes[i], EMF_ALIGN), &off) ||
                    off > (uint64_t)SIZE_MAX / 4)
                    return em_error(EMBER_ERROR_LIMIT_EXCEEDED, "the packed weights are too large");
                ps->count++;
                ps->data_size = off;
            } else if (ps->bytes[i]) {
                ember_status st = nd->op->pack(&ctx, ps->data + ps->offset[i]);
                if (st != EMBER_OK)
                    return em_error(st, "node '%s' (%s): packing the weights: %s", nd->name,
                                    nd->op_type, msg);
            }
        }
        if (pass == 0 && ps->data_size) {
            if (!(ps->data = em_aligned_alloc((size_t)ps->data_size)))
                return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory for %llu bytes of packed weights",
                                (unsigned long long)ps->data_size);
            memset(ps->data, 0, (size_t)ps->data_size); /* the padding between blobs */
        }
    }
    return EMBER_OK;
}

typedef struct out_section {
    uint32_t kind;
    const uint8_t* src;
    uint64_t size;
    uint64_t offset;     /* in the output */
} out_section;

/* Lays out and fills the new file: the source's sections (but any PACKED,
 * PACKED_DATA, CHECKSUMS) in their order, then PACKED, CHECKSUMS, PACKED_DATA. */
static ember_status build_image(const ember_model* m, const char* layout, const packed_set* ps,
                                uint8_t** out, size_t* out_size) {
    const emf_header* h0 = (const emf_header*)m->base;
    const emf_section* t0 = (const emf_section*)(m->base + h0->section_table_offset);
    out_section secs[80];
    uint32_t ns = 0;
    /* the source's sections by offset (the canonical order it was written in) */
    for (uint32_t i = 0; i < h0->section_count; i++) {
        if (is_pack_section(t0[i].kind)) continue;
        uint32_t at = ns++;
        while (at > 0 && secs[at - 1].src > m->base + t0[i].offset) {
            secs[at] = secs[at - 1];
            at--;
        }
        secs[at] = (out_section){t0[i].kind, m->base + t0[i].offset, t0[i].size, 0};
    }
    /* PACKED records, in node order */
    emf_packed* recs = calloc(ps->count ? ps->count : 1, sizeof *recs);
    if (ps->count) {
        secs[ns++] = (out_section){EMF_SECTION_PACKED, (const uint8_t*)recs, (uint64_t)ps->count * sizeof *recs, 0};
        secs[ns++] = (out_section){EMF_SECTION_CHECKSUMS, NULL, 0, 0};
        secs[ns++] = (out_section){EMF_SECTION_PACKED_DATA, ps->data, ps->data_size, 0};
    } else {
        secs[ns++] = (out_section){EMF_SECTION_CHECKSUMS, NULL, 0, 0};
    }
    /* checksums: self, the table, each section checked whole, each constant */
    size_t n_crc = 2;
    for (uint32_t i = 0; i < ns; i++) n_crc += emf_checked_whole(secs[i].kind);
    for (uint32_t t = 0; t < m->n_tensors; t++) n_crc += m->tensors[t].data != NULL;
    emf_checksum* crcs = calloc(n_crc, sizeof *crcs);
    if (!recs || !crcs) {
        free(recs);
        free(crcs);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory writing the packed file");
    }
    for (uint32_t i = 0; i < ns; i++)
        if (secs[i].kind == EMF_SECTION_CHECKSUMS) secs[i].size = n_crc * sizeof *crcs;
    for (uint32_t i = 0, r = 0; i < m->n_nodes; i++) {
        if (!ps->bytes[i]) continue;
        recs[r].node = i;
        recs[r].offset = ps->offset[i];
        recs[r].size = ps->bytes[i];
        recs[r].crc = em_crc32(ps->data + ps->offset[i], ps->bytes[i]);
        memcpy(recs[r].layout, layout, strlen(layout));
        r++;
    }
    uint64_t pos = em_align_up(sizeof(emf_header) + (uint64_t)ns * sizeof(emf_section), EMF_ALIGN);
    for (uint32_t i = 0; i < ns; i++) {
        secs[i].offset = pos;
        pos = em_align_up(pos + secs[i].size, EMF_ALIGN);
    }
    /* the last section ends the file (no trailing padding) */
    const uint64_t file_size = secs[ns - 1].offset + secs[ns - 1].size;
    uint8_t* img = calloc(1, (size_t)file_size);
    if (!img) {
        free(recs);
        free(crcs);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory for a %llu-byte file",
                        (unsigned long long)file_size);
    }
    emf_header* h = (emf_header*)img;
    memcpy(h, h0, sizeof *h);
    if (h->version_minor < 2) h->version_minor = 2;
    h->file_size = file_size;
    h->section_count = ns;
    emf_section* table = (emf_section*)(img + sizeof(emf_header));
    uint8_t* crc_dst = NULL;
    for (uint32_t i = 0; i < ns; i++) {
        table[i] = (emf_section){.kind = secs[i].kind, .offset = secs[i].offset, .size = secs[i].size};
        if (secs[i].kind == EMF_SECTION_CHECKSUMS)
            crc_dst = img + secs[i].offset;
        else if (secs[i].size)
            memcpy(img + secs[i].offset, secs[i].src, (size_t)secs[i].size);
    }
    size_t c = 1;
    crcs[c++] = (emf_checksum){EMF_CHECKSUM_SECTION_TABLE, 0,
                               em_crc32(table, (size_t)ns * sizeof *table), 0};
    for (uint32_t i = 0; i < ns; i++)
        if (emf_checked_whole(secs[i].kind))
            crcs[c++] = (emf_checksum){EMF_CHECKSUM_SECTION, secs[i].kind,
                                       em_crc32(img + secs[i].offset, (size_t)secs[i].size), 0};
    for (uint32_t t = 0; t < m->n_tensors; t++)
        if (m->tensors[t].data)
            crcs[c++] = (emf_checksum){EMF_CHECKSUM_TENSOR, t,
                                       em_crc32(m->tensors[t].data, m->tensors[t].data_size), 0};
    crcs[0] = (emf_checksum){EMF_CHECKSUM_SELF, 0, em_crc32(crcs + 1, (c - 1) * sizeof *crcs), 0};
    memcpy(crc_dst, crcs, c * sizeof *crcs);
    free(recs);
    free(crcs);
    h->checksum = em_crc32(img + sizeof(emf_header), (size_t)(file_size - sizeof(emf_header)));
    *out = img;
    *out_size = (size_t)file_size;
    return EMBER_OK;
}

EMBER_API ember_status ember_model_pack_file(const char* src_path, const char* dst_path,
                                             const ember_session_options* options) {
    if (!src_path || !dst_path)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_model_pack_file: src_path and dst_path must not be NULL");
    ember_status st = em_session_options_check(options);
    if (st != EMBER_OK) return st;
    uint8_t* src = NULL;
    size_t size = 0;
    if ((st = read_whole_file(src_path, &src, &size)) != EMBER_OK) return st;
    ember_model* m = NULL;
    st = ember_model_load_memory(src, size, NULL, &m);
    free(src);
    if (st != EMBER_OK) return st;
    em_plan plan;
    if ((st = em_plan_build(m, options, &plan)) != EMBER_OK) {
        ember_model_free(m);
        return st;
    }
    packed_set ps = {0};
    uint8_t* img = NULL;
    size_t img_size = 0;
    char layout[EMF_PACK_LAYOUT_SIZE];
    em_pack_layout(plan.kern, layout);
    if ((st = pack_nodes(m, &plan, &ps)) == EMBER_OK &&
        (st = build_image(m, layout, &ps, &img, &img_size)) == EMBER_OK)
        st = write_atomically(dst_path, img, img_size);
    free(img);
    packed_set_free(&ps);
    em_plan_free(&plan);
    ember_model_free(m);
    if (st == EMBER_OK) em_clear_error();
    return st;
}
