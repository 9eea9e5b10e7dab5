/* ember: the command-line program. main and subcommand dispatch.
 * Exit codes: 0 success, 1 runtime/model/data error, 2 usage error (docs/CLI.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE* out) {
    fprintf(out,
            "usage: ember <command> [options]\n"
            "\n"
            "commands:\n"
            "  inspect MODEL            inputs, outputs, operators, parameters, MACs, metadata\n"
            "  run MODEL --input ...    run once on .npy inputs; write outputs, print top-k classes\n"
            "  bench MODEL              latency (median, p90, p99), throughput, load time, peak memory\n"
            "  predict MODEL --input F --output F   batch prediction over a whole .csv or .npy file\n"
            "  profile MODEL            per-node times; --trace writes a Chrome trace\n"
            "  pack MODEL OUT           pre-pack the weights for this machine's kernels (faster load)\n"
            "\n"
            "  ember <command> --help   options of a command\n"
            "  ember --version          versions of the program, library and format\n"
            "\n"
            "exit status: 0 success, 1 model/data/run error, 2 usage error\n");
}

int main(int argc, char** argv) {
    if (argc < 2) return cli_fail(CLI_USAGE, "missing command (try ember --help)");
    const char* cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        int fv = ember_format_version();
        printf("ember %s (library %s, model format %d.%d)\n", EMBER_VERSION_STRING, ember_version_string(), fv / 100,
               fv % 100);
        return CLI_OK;
    }
    static const struct {
        const char* name;
        int (*fn)(int, char**);
    } cmds[] = {
        {"inspect", cmd_inspect}, {"run", cmd_run}, {"bench", cmd_bench}, {"predict", cmd_predict},
        {"profile", cmd_profile}, {"pack", cmd_pack},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0) {
            cli_cmd = cmds[i].name;
            return cmds[i].fn(argc - 1, argv + 1);
        }
    return cli_fail(CLI_USAGE, "unknown command '%s' (try ember --help)", cmd);
}
