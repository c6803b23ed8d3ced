/* reports.h - the printing halves of check and show, given gathered
 * state (exported for the unit tests, which feed recorded replies) */
#ifndef UINTRCTL_REPORTS_H
#define UINTRCTL_REPORTS_H

#include "session.h"

/* Evaluate the rules on @cpus (cpuid_gather) and the query-uintr
 * samples @first and @last (NULL, with @no_state saying why, when QEMU
 * lacks query-uintr), print them, return the exit code. */
int check_report(UintrctlOptions *opts, const Session *s, GPtrArray *cpus,
                 GPtrArray *first, GPtrArray *last, const GError *no_state);

/* Print @vcpus (uintr_state_parse) as tables or JSON; returns 0. */
int show_report(UintrctlOptions *opts, const Session *s, GPtrArray *vcpus);

#endif
