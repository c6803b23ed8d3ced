/* unit.h - a tiny test harness for the uintrctl unit tests
 *
 * A test is a function; CHECK*() record a failure (with file:line and
 * the failed expression) and let the test go on.  unit.c runs every
 * test of every suite and ends with "uintrctl-unit: N passed, M failed".
 */
#ifndef UINTRCTL_UNIT_H
#define UINTRCTL_UNIT_H

#include <glib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} UnitTest;

void unit_fail(const char *file, int line, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
    } while (0)

#define CHECK_INT(a, b) \
    do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) \
            unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, \
                      a_, b_); \
    } while (0)

#define CHECK_STR(a, b) \
    do { \
        const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) \
            unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, \
                      #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

#define CHECK_CONTAINS(hay, needle) \
    do { \
        const char *h_ = (hay), *n_ = (needle); \
        if (!h_ || !strstr(h_, n_)) \
            unit_fail(__FILE__, __LINE__, "%s contains \"%s\": \"%s\"", #hay, \
                      n_, h_ ? h_ : "(null)"); \
    } while (0)

/* err must be set, in domain UINTRCTL_ERROR / QMP_REPLY_ERROR ... and
 * map to exit code @code */
#define CHECK_ERR_EXIT(err, code) \
    do { \
        if (!(err)) \
            unit_fail(__FILE__, __LINE__, "expected an error (exit %d), got " \
                      "none", (int)(code)); \
        else if (uintrctl_exit_code(err) != (code)) \
            unit_fail(__FILE__, __LINE__, "expected exit %d, got %d: %s", \
                      (int)(code), uintrctl_exit_code(err), (err)->message); \
    } while (0)

/* suites, each terminated by { NULL, NULL } */
extern const UnitTest qmp_tests[];
extern const UnitTest cpuid_tests[];
extern const UnitTest domxml_tests[];
extern const UnitTest qmp_socket_tests[];
extern const UnitTest output_tests[];
extern const UnitTest cpumodel_tests[];
extern const UnitTest check_tests[];
extern const UnitTest qmp_stream_tests[];

/* Fake transport replaying recorded replies (test-qmp.c). */
#include "qmp.h"
QmpTransport *fake_transport_new(const char *const *replies);
/* The commands it was given, as JSON text, one per exchange. */
GPtrArray *fake_transport_sent(QmpTransport *t);
/* Read a file from tests/data (g_free the result). */
char *unit_read_data(const char *name);

#endif
