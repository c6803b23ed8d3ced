/* cmd_check.c - "uintrctl check": the numbered UINTR rules
 *
 * Gathers what cpuid gathers (query-cpus-fast, qom-get uintr and
 * feature-words per vCPU; the domain XML in libvirt mode), then two
 * samples of query-uintr --interval ms apart, evaluates rules.h and
 * prints one line per rule and vCPU.  Only query commands are sent.
 */
#include "cpuid.h"
#include "errors.h"
#include "output.h"
#include "reports.h"
#include "rules.h"
#include "session.h"
#include "uintr-state.h"
#include "uintrctl.h"

const char cmd_check_synopsis[] =
    "[-c URI] [--interval MS] check DOMAIN\n"
    "--qmp SOCKET [--interval MS] check";
const char cmd_check_summary[] =
    "evaluate the numbered UINTR rules (CPUID, XSAVE, CR4, MSRs, UPID,\n"
    "UITT) on every vCPU: one line RULE-ID PASS|FAIL|WARN|SKIP per rule\n"
    "and vCPU; exit 1 on any FAIL";

typedef struct {
    unsigned counts[RULE_FAIL + 1];
} CheckSummary;

static json_object *outcome_to_json(const RuleOutcome *o)
{
    json_object *j = json_object_new_object();

    json_object_object_add(j, "rule", json_object_new_string(o->rule->id));
    json_object_object_add(j, "clause", json_object_new_string(o->rule->clause));
    json_object_object_add(j, "what", json_object_new_string(o->rule->what));
    json_object_object_add(j, "cpu", o->cpu_index < 0
                               ? NULL : json_object_new_int(o->cpu_index));
    json_object_object_add(j, "result", json_object_new_string(
                               rule_result_name(o->result)));
    json_object_object_add(j, "detail", json_object_new_string(o->detail));
    json_object_object_add(j, "hint",
                           o->result == RULE_FAIL || o->result == RULE_WARN
                               ? json_object_new_string(o->rule->hint) : NULL);
    return j;
}

static void print_outcome(Output *out, const RuleOutcome *o)
{
    g_autofree char *cpu = o->cpu_index < 0
                               ? g_strdup("")
                               : g_strdup_printf("vCPU %d: ", o->cpu_index);
    g_autofree char *hint = o->result == RULE_FAIL || o->result == RULE_WARN
                                ? g_strdup_printf("  (%s)", o->rule->hint)
                                : g_strdup("");

    out_text(out, "%s  %s  %s%s: %s%s", o->rule->id,
             rule_result_name(o->result), cpu, o->rule->what, o->detail, hint);
}

/* The exit code: 1 on any FAIL, else 9 without query-uintr, else 0. */
static int check_exit_code(GPtrArray *outcomes, gboolean have_state)
{
    if (rules_worst(outcomes) == RULE_FAIL)
        return UINTRCTL_EXIT_MISMATCH;
    return have_state ? UINTRCTL_EXIT_OK : UINTRCTL_EXIT_NO_QUERY_UINTR;
}

int check_report(UintrctlOptions *opts, const Session *s, GPtrArray *cpus,
                 GPtrArray *first, GPtrArray *last, const GError *no_state)
{
    CpuidVerdict verdict;
    RuleInput in = {
        .cpus = cpus, .verdict = &verdict, .first = first, .last = last,
        .no_state_reason = no_state ? no_state->message : NULL,
        .interval_ms = first == last ? 0 : opts->interval_ms,
    };
    g_autoptr(GPtrArray) outcomes = NULL;
    json_object *doc = json_object_new_object();
    json_object *list = json_object_new_array();
    json_object *sum = json_object_new_object();
    json_object *res = json_object_new_object();
    CheckSummary summary = { { 0 } };
    g_autofree char *message = NULL;
    int code;

    cpuid_verdict(cpus, s->has_dom ? &s->dom : NULL, opts->expect, &verdict);
    outcomes = rules_evaluate(&in);
    cpuid_verdict_clear(&verdict);
    code = check_exit_code(outcomes, last != NULL);

    session_print_header(opts, s);
    for (guint i = 0; i < outcomes->len; i++) {
        const RuleOutcome *o = outcomes->pdata[i];

        summary.counts[o->result]++;
        print_outcome(opts->out, o);
        json_object_array_add(list, outcome_to_json(o));
    }
    message = g_strdup_printf("%u results: %u passed, %u failed, %u warnings, "
                              "%u skipped", outcomes->len,
                              summary.counts[RULE_PASS],
                              summary.counts[RULE_FAIL],
                              summary.counts[RULE_WARN],
                              summary.counts[RULE_SKIP]);
    out_text(opts->out, "check: %s", message);

    json_object_object_add(doc, "source", session_source_json(opts, s));
    json_object_object_add(doc, "interval-ms",
                           json_object_new_int(in.interval_ms));
    json_object_object_add(doc, "query-uintr",
                           json_object_new_boolean(last != NULL));
    json_object_object_add(doc, "checks", list);
    json_object_object_add(sum, "pass",
                           json_object_new_int((int)summary.counts[RULE_PASS]));
    json_object_object_add(sum, "fail",
                           json_object_new_int((int)summary.counts[RULE_FAIL]));
    json_object_object_add(sum, "warn",
                           json_object_new_int((int)summary.counts[RULE_WARN]));
    json_object_object_add(sum, "skip",
                           json_object_new_int((int)summary.counts[RULE_SKIP]));
    json_object_object_add(doc, "summary", sum);
    json_object_object_add(res, "ok", json_object_new_boolean(code == 0));
    json_object_object_add(res, "code", json_object_new_int(code));
    json_object_object_add(res, "name", json_object_new_string(
                               uintrctl_exit_name(code)));
    json_object_object_add(res, "message", json_object_new_string(message));
    json_object_object_add(doc, "result", res);
    out_document(opts->out, doc);
    json_object_put(doc);

    if (code == UINTRCTL_EXIT_MISMATCH)
        out_note(opts->out, "check", message);
    else if (code == UINTRCTL_EXIT_NO_QUERY_UINTR)
        out_error(opts->out, no_state);
    return code;
}

static int check_run(UintrctlOptions *opts, const Session *s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) no_state = NULL;
    g_autoptr(GPtrArray) cpus = cpuid_gather(s->t, UINTR_PROPERTY, &err);
    g_autoptr(GPtrArray) first = NULL;
    g_autoptr(GPtrArray) second = NULL;

    if (!cpus)
        return out_error(opts->out, err);
    first = uintr_state_query(s->t, &err);
    if (!first) {
        if (uintrctl_exit_code(err) != UINTRCTL_EXIT_NO_QUERY_UINTR)
            return out_error(opts->out, err);
        no_state = g_steal_pointer(&err);
    } else if (opts->interval_ms > 0) {
        g_usleep((gulong)opts->interval_ms * 1000);
        second = uintr_state_query(s->t, &err);
        if (!second)
            return out_error(opts->out, err);
    }
    return check_report(opts, s, cpus, first, second ? second : first,
                        no_state);
}

int cmd_check(UintrctlOptions *opts, int argc, char **argv)
{
    return session_run(opts, argc, argv, TRUE, check_run);
}
