/* fuzz.h - libFuzzer targets of uintrctl's decoders
 *
 * Each fuzz-*.c defines LLVMFuzzerTestOneInput.  Built with clang
 * -fsanitize=fuzzer,address,undefined by "make fuzz"; the same files
 * are linked with replay.c (gcc, ASan/UBSan) by "make check" to replay
 * the seed corpora and kept crashers.
 */
#ifndef UINTRCTL_FUZZ_H
#define UINTRCTL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @data as a NUL-terminated GLib string (inputs may contain NULs: the
 * text then ends at the first one, as it would for libvirt's reply). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    return g_strndup((const char *)data, size);
}

#endif
