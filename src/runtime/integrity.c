/* Checking weights when they are first read (files with per-part checksums,
 * docs/FORMAT.md section 8), and the layout names of pre-packed weights. */
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "format.h"
#include "model.h"

void em_pack_layout(const ember_kernels* kern, char out[EMF_PACK_LAYOUT_SIZE]) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    snprintf(out, EMF_PACK_LAYOUT_SIZE, "%s %ux%u kc%u v%d", kern->isa, g->mr, g->nr, g->kc,
             EM_PACK_VERSION);
}

ember_status em_tensor_verify(em_tensor* t) {
    if (!t->crc_pending) return EMBER_OK;
    const uint32_t crc = em_crc32(t->data, t->data_size);
    if (crc != t->crc)
        return em_error(EMBER_ERROR_INVALID_MODEL,
                        "invalid model: checksum mismatch in the data of constant tensor '%s' (file "
                        "says 0x%08x, contents give 0x%08x): the file is damaged",
                        t->name, t->crc, crc);
    t->crc_pending = false;
    return EMBER_OK;
}

ember_status em_node_verify_packed(const em_node* cnode, char* msg) {
    em_node* node = (em_node*)cnode; /* packed_check is the one field runs write, atomically */
    int state = __atomic_load_n(&node->packed_check, __ATOMIC_ACQUIRE);
    if (state == 1) {
        /* Two runs may check at once: both find the same and store the same. */
        const uint32_t crc = em_crc32(node->file_packed, node->file_packed_size);
        state = crc == node->file_packed_crc ? 0 : 2;
        __atomic_store_n(&node->packed_check, state, __ATOMIC_RELEASE);
    }
    if (state == 0) return EMBER_OK;
    return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                     "its pre-packed weights in the file are damaged (checksum mismatch; file says "
                     "0x%08x): repack the model with 'ember pack'",
                     node->file_packed_crc);
}
