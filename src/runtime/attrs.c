/* Typed access to a node's attributes. */
#include <string.h>

#include "format.h"
#include "op.h"

const em_attr* em_attr_find(const em_node* node, const char* name) {
    for (uint32_t i = 0; i < node->n_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0) return &node->attrs[i];
    return NULL;
}

static const char* type_name(uint32_t t) {
    switch (t) {
    case EMF_ATTR_INT: return "int";
    case EMF_ATTR_FLOAT: return "float";
    case EMF_ATTR_STRING: return "string";
    case EMF_ATTR_INTS: return "ints";
    case EMF_ATTR_FLOATS: return "floats";
    }
    return "unknown";
}

static ember_status wrong_type(em_op_ctx* ctx, const em_attr* a, uint32_t want) {
    return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute '%s' must be %s, got %s", a->name,
                      type_name(want), type_name(a->type));
}

ember_status em_attr_int(em_op_ctx* ctx, const char* name, int64_t def, int64_t* out) {
    const em_attr* a = em_attr_find(ctx->node, name);
    if (!a) {
        *out = def;
        return EMBER_OK;
    }
    if (a->type != EMF_ATTR_INT) return wrong_type(ctx, a, EMF_ATTR_INT);
    *out = a->i;
    return EMBER_OK;
}

ember_status em_attr_float(em_op_ctx* ctx, const char* name, float def, float* out) {
    const em_attr* a = em_attr_find(ctx->node, name);
    if (!a) {
        *out = def;
        return EMBER_OK;
    }
    if (a->type == EMF_ATTR_INT) { /* exporters sometimes write 0 for 0.0 */
        *out = (float)a->i;
        return EMBER_OK;
    }
    if (a->type != EMF_ATTR_FLOAT) return wrong_type(ctx, a, EMF_ATTR_FLOAT);
    *out = a->f;
    return EMBER_OK;
}

ember_status em_attr_string(em_op_ctx* ctx, const char* name, const char* def, const char** out) {
    const em_attr* a = em_attr_find(ctx->node, name);
    if (!a) {
        *out = def;
        return EMBER_OK;
    }
    if (a->type != EMF_ATTR_STRING) return wrong_type(ctx, a, EMF_ATTR_STRING);
    *out = a->s;
    return EMBER_OK;
}

ember_status em_attr_ints(em_op_ctx* ctx, const char* name, const int64_t** out, uint32_t* count) {
    const em_attr* a = em_attr_find(ctx->node, name);
    if (!a) {
        *out = NULL;
        *count = 0;
        return EMBER_OK;
    }
    if (a->type != EMF_ATTR_INTS) return wrong_type(ctx, a, EMF_ATTR_INTS);
    *out = a->ints;
    *count = a->count;
    return EMBER_OK;
}

ember_status em_attr_floats(em_op_ctx* ctx, const char* name, const float** out, uint32_t* count) {
    const em_attr* a = em_attr_find(ctx->node, name);
    if (!a) {
        *out = NULL;
        *count = 0;
        return EMBER_OK;
    }
    if (a->type != EMF_ATTR_FLOATS) return wrong_type(ctx, a, EMF_ATTR_FLOATS);
    *out = a->floats;
    *count = a->count;
    return EMBER_OK;
}
