/* replay.c - run a fuzz target over files and directories, without
 * libFuzzer: "make check" replays the seed corpora and the crashers
 * with the gcc ASan/UBSan build.  Prints "replay-NAME: N passed, 0
 * failed" (an input that fails aborts under the sanitizers). */
#include <stdio.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "replay: %s\n", err->message);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    return 1;
}

int main(int argc, char **argv)
{
    int n = 0;

    for (int i = 2; i < argc; i++) {
        g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
        const char *name;

        if (!dir) {
            if (g_file_test(argv[i], G_FILE_TEST_EXISTS)) {
                if (replay_file(argv[i]) < 0)
                    return 1;
                n++;
            }
            continue;
        }
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(argv[i], name, NULL);

            if (name[0] == '.' || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
                continue;
            if (replay_file(path) < 0)
                return 1;
            n++;
        }
    }
    printf("replay-%s: %d passed, 0 failed\n", argc > 1 ? argv[1] : "?", n);
    return 0;
}
