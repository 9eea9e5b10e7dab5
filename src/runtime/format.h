/* On-disk layout of a .ember file (docs/FORMAT.md is the specification).
 * All integers little-endian; every record's size is a multiple of 8 so that
 * records read in place from a 64-byte aligned section are naturally aligned. */
#ifndef EMBER_FORMAT_H
#define EMBER_FORMAT_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ember reads its files in place and supports little-endian hosts only"
#endif

#define EMF_MAGIC "\x89" "EMBER\r\n"
#define EMF_MAGIC_SIZE 8
#define EMF_VERSION_MAJOR 1
#define EMF_VERSION_MINOR 2
#define EMF_ALIGN 64
#define EMF_MAX_RANK 8
#define EMF_NONE 0xFFFFFFFFu /* absent optional index */

typedef struct emf_header {
    uint8_t magic[8];
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t header_size;          /* 64 */
    uint64_t file_size;
    uint64_t section_table_offset; /* 64-aligned */
    uint32_t section_count;
    uint32_t checksum;             /* CRC-32 (zlib) of bytes [header_size, file_size) */
    uint32_t flags;                /* 0 */
    uint32_t reserved[5];          /* 0 */
} emf_header;

enum emf_section_kind {
    EMF_SECTION_STRINGS = 1,
    EMF_SECTION_TENSORS = 2,
    EMF_SECTION_NODES = 3,
    EMF_SECTION_INDICES = 4,
    EMF_SECTION_ATTRIBUTES = 5,
    EMF_SECTION_ATTR_DATA = 6,
    EMF_SECTION_QUANT = 7,
    EMF_SECTION_METADATA = 8,
    EMF_SECTION_GRAPH = 9,
    EMF_SECTION_WEIGHTS = 10,
    EMF_SECTION_PACKED = 11,      /* since 1.2: emf_packed[count] */
    EMF_SECTION_PACKED_DATA = 12, /* since 1.2: the pre-packed blobs, each 64-aligned */
    EMF_SECTION_CHECKSUMS = 13,   /* since 1.2: emf_checksum[count] */
    EMF_SECTION_KIND_MAX = 13
};

typedef struct emf_section {
    uint32_t kind;
    uint32_t reserved; /* 0 */
    uint64_t offset;   /* absolute, 64-aligned */
    uint64_t size;
} emf_section;

/* Tensor flags. */
#define EMF_TENSOR_CONSTANT 1u /* has data in the WEIGHTS section */

typedef struct emf_tensor {
    uint32_t name;        /* string offset */
    uint8_t dtype;        /* ember_dtype */
    uint8_t rank;
    uint8_t flags;
    uint8_t reserved0;
    uint32_t quant;       /* index into QUANT, or EMF_NONE */
    uint32_t reserved1;
    uint64_t data_offset; /* constant: offset in WEIGHTS, 64-aligned */
    uint64_t data_size;   /* constant: bytes */
    int64_t dims[EMF_MAX_RANK];     /* >= 0, or -1 where symbolic */
    uint32_t dim_names[EMF_MAX_RANK]; /* string offset of the symbol, 0 if fixed */
} emf_tensor;

/* Activations fused into the output of Conv, ConvTranspose, Gemm and MatMul. */
enum emf_activation {
    EMF_ACT_NONE = 0,
    EMF_ACT_RELU = 1,
    EMF_ACT_CLIP = 2,         /* alpha = min, beta = max */
    EMF_ACT_SIGMOID = 3,
    EMF_ACT_HARD_SIGMOID = 4, /* max(0, min(1, alpha * x + beta)) */
    EMF_ACT_HARD_SWISH = 5,
    EMF_ACT_LEAKY_RELU = 6,   /* alpha = slope */
    EMF_ACT_TANH = 7,
    EMF_ACT_SILU = 8,         /* x * sigmoid(x) (Swish); since 1.1 */
    EMF_ACT_MAX = 8
};

typedef struct emf_node {
    uint32_t name;
    uint32_t op_type;      /* string offset: the ONNX operator name */
    uint32_t input_first;  /* into INDICES; an entry EMF_NONE is an absent optional input */
    uint32_t input_count;
    uint32_t output_first;
    uint32_t output_count;
    uint32_t attr_first;   /* into ATTRIBUTES */
    uint32_t attr_count;
    uint32_t activation;   /* emf_activation */
    float act_alpha;
    float act_beta;
    uint32_t reserved;
} emf_node;

enum emf_attr_type {
    EMF_ATTR_INT = 1,    /* value: int64 */
    EMF_ATTR_FLOAT = 2,  /* value: low 32 bits hold an IEEE-754 binary32 */
    EMF_ATTR_STRING = 3, /* value: string offset */
    EMF_ATTR_INTS = 4,   /* value: offset in ATTR_DATA (8-aligned) of count int64 */
    EMF_ATTR_FLOATS = 5  /* value: offset in ATTR_DATA (4-aligned) of count float32 */
};

typedef struct emf_attr {
    uint32_t name;
    uint32_t type;
    uint64_t value;
    uint32_t count;      /* elements, for INTS and FLOATS; 0 otherwise */
    uint32_t reserved;
} emf_attr;

typedef struct emf_quant {
    int32_t axis;             /* -1: per tensor; else the channel axis */
    uint32_t count;           /* 1, or the size of dims[axis] */
    uint64_t scale_offset;    /* ATTR_DATA offset of count float32 (4-aligned) */
    uint64_t zero_point_offset; /* ATTR_DATA offset of count int32 (4-aligned) */
    uint32_t block_size;      /* 0 (reserved for block-wise quantization) */
    uint32_t reserved;
} emf_quant;

typedef struct emf_graph {
    uint32_t input_first;  /* into INDICES */
    uint32_t input_count;
    uint32_t output_first;
    uint32_t output_count;
} emf_graph;

typedef struct emf_meta {
    uint32_t key;   /* string offset */
    uint32_t value; /* string offset */
} emf_meta;

/* Weights pre-packed for one kernel path (`ember pack`): a reader whose default
 * path has the same layout name runs from the blob in place instead of packing
 * the node's weights at session creation; any other reader ignores it. */
#define EMF_PACK_LAYOUT_SIZE 32
typedef struct emf_packed {
    uint32_t node;       /* index into NODES; at most one record per node */
    uint32_t crc;        /* CRC-32 of the blob's bytes */
    uint64_t offset;     /* in PACKED_DATA, 64-aligned */
    uint64_t size;       /* bytes, > 0 */
    uint64_t reserved;   /* 0 */
    char layout[EMF_PACK_LAYOUT_SIZE]; /* NUL-terminated, NUL-padded: path and packing version */
} emf_packed;

/* Checksums of the parts of the file (1.2), so that a reader can check the
 * structure at load and each weight blob when it first reads it. Record 0 is
 * EMF_CHECKSUM_SELF (crc of the records after it). */
enum emf_checksum_kind {
    EMF_CHECKSUM_SELF = 0,          /* index 0: CRC-32 of the records that follow */
    EMF_CHECKSUM_SECTION_TABLE = 1, /* index 0: CRC-32 of the section table */
    EMF_CHECKSUM_SECTION = 2,       /* index: a section kind; CRC-32 of its bytes */
    EMF_CHECKSUM_TENSOR = 3         /* index: a constant tensor; CRC-32 of its data */
};
/* True for the sections a CHECKSUMS file covers with an EMF_CHECKSUM_SECTION
 * record; WEIGHTS and PACKED_DATA are checked per weight and per blob, and
 * CHECKSUMS by its own record 0 (docs/FORMAT.md 8.1). */
static inline int emf_checked_whole(uint32_t kind) {
    return kind != EMF_SECTION_WEIGHTS && kind != EMF_SECTION_PACKED_DATA &&
           kind != EMF_SECTION_CHECKSUMS;
}
typedef struct emf_checksum {
    uint32_t kind;       /* emf_checksum_kind */
    uint32_t index;
    uint32_t crc;
    uint32_t reserved;   /* 0 */
} emf_checksum;

_Static_assert(sizeof(emf_header) == 64, "header is 64 bytes");
_Static_assert(sizeof(emf_section) == 24, "section entry is 24 bytes");
_Static_assert(sizeof(emf_tensor) == 128, "tensor record is 128 bytes");
_Static_assert(sizeof(emf_node) == 48, "node record is 48 bytes");
_Static_assert(sizeof(emf_attr) == 24, "attribute record is 24 bytes");
_Static_assert(sizeof(emf_quant) == 32, "quant record is 32 bytes");
_Static_assert(sizeof(emf_graph) == 16, "graph record is 16 bytes");
_Static_assert(sizeof(emf_meta) == 8, "metadata record is 8 bytes");
_Static_assert(sizeof(emf_packed) == 64, "packed record is 64 bytes");
_Static_assert(sizeof(emf_checksum) == 16, "checksum record is 16 bytes");

#endif
