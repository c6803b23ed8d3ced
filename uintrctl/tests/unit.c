/* unit.c - runs every unit test suite
 *
 *   unit-tests [SUBSTRING]   run the tests whose "suite/name" contains it
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

static int current_failures;

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    current_failures++;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

char *unit_read_data(const char *name)
{
    g_autofree char *path = g_build_filename(TESTS_DIR, "data", name, NULL);
    char *text = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        unit_fail(__FILE__, __LINE__, "cannot read %s: %s", path, err->message);
        return g_strdup("");
    }
    return text;
}

static const struct {
    const char *name;
    const UnitTest *tests;
} suites[] = {
    { "qmp", qmp_tests },
    { "cpuid", cpuid_tests },
    { "domxml", domxml_tests },
    { "qmp-socket", qmp_socket_tests },
    { "output", output_tests },
    { "cpumodel", cpumodel_tests },
    { "qmp-stream", qmp_stream_tests },
    { "check", check_tests },
};

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;

    for (size_t s = 0; s < G_N_ELEMENTS(suites); s++) {
        for (const UnitTest *t = suites[s].tests; t->name; t++) {
            g_autofree char *full = g_strdup_printf("%s/%s", suites[s].name,
                                                    t->name);

            if (filter && !strstr(full, filter))
                continue;
            current_failures = 0;
            t->fn();
            if (current_failures) {
                failed++;
                printf("FAIL %s\n", full);
            } else {
                passed++;
                printf("ok   %s\n", full);
            }
            fflush(stdout);
        }
    }
    printf("uintrctl-unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
