/* ember pack MODEL OUT: the model with its weights pre-packed for a kernel path. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember pack MODEL OUT [--isa NAME]\n"
            "\n"
            "Writes OUT: MODEL with its weights pre-packed for a kernel path (this\n"
            "machine's default, or --isa), so that loading OUT packs nothing and reads\n"
            "only the weights it uses. OUT runs everywhere MODEL does: on another path,\n"
            "or with an ember that packs differently, the weights are packed at load as\n"
            "before. OUT may be MODEL (it is replaced only once the new file is complete).\n"
            "\n"
            "  --isa NAME   pack for generic, avx2, avx512 or neon (one this machine runs)\n");
}

int cmd_pack(int argc, char** argv) {
    const char* paths[2] = {NULL, NULL};
    size_t n_paths = 0;
    uint32_t isa_flag = 0;
    const cli_option opts[] = {
        {"--isa", CLI_ISA, &isa_flag, 0, 0, NULL},
    };
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], paths, 2, &n_paths, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (n_paths < 2) return cli_fail(CLI_USAGE, "missing %s (see ember pack --help)", n_paths ? "OUT" : "MODEL and OUT");
    ember_session_options o;
    ember_session_options_init(&o);
    o.flags |= isa_flag;
    double t0 = cli_now_ms();
    if (ember_model_pack_file(paths[0], paths[1], &o) != EMBER_OK)
        return cli_fail_ember("cannot pack '%s' into '%s'", paths[0], paths[1]);
    struct stat st;
    if (stat(paths[1], &st) == 0)
        printf("wrote %s: %lld bytes, packed in %.1f ms\n", paths[1], (long long)st.st_size,
               cli_now_ms() - t0);
    return CLI_OK;
}
