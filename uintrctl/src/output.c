/* output.c - the one output layer: text or JSON */
#include <string.h>

#include "errors.h"
#include "output.h"

struct Output {
    OutputMode mode;
    FILE *out;
    FILE *err;
    gboolean printed_document;
};

Output *out_new(OutputMode mode, FILE *out, FILE *err)
{
    Output *o = g_new0(Output, 1);

    o->mode = mode;
    o->out = out;
    o->err = err;
    return o;
}

void out_free(Output *o)
{
    if (o)
        fflush(o->out);
    g_free(o);
}

gboolean out_is_json(const Output *o)
{
    return o->mode != OUT_TEXT;
}

void out_text(Output *o, const char *fmt, ...)
{
    va_list ap;

    if (out_is_json(o))
        return;
    va_start(ap, fmt);
    vfprintf(o->out, fmt, ap);
    va_end(ap);
    fputc('\n', o->out);
}

static char *cell_text(const OutColumn *c, json_object *row)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(row, c->key, &v) || !v)
        return g_strdup("-");
    if (c->format)
        return c->format(v);
    if (json_object_is_type(v, json_type_string))
        return g_strdup(json_object_get_string(v));
    return g_strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

void out_table(Output *o, const OutColumn *cols, size_t ncols,
               json_object *rows)
{
    size_t nrows = json_object_array_length(rows);
    g_autofree size_t *width = g_new0(size_t, ncols);
    g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) line = g_string_new(NULL);

    if (out_is_json(o))
        return;
    for (size_t c = 0; c < ncols; c++)
        width[c] = strlen(cols[c].header);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *s = cell_text(&cols[c], json_object_array_get_idx(rows, r));

            width[c] = MAX(width[c], strlen(s));
            g_ptr_array_add(cells, s);
        }
    }
    for (size_t r = 0; r <= nrows; r++) {
        g_string_truncate(line, 0);
        for (size_t c = 0; c < ncols; c++) {
            const char *s = r == 0 ? cols[c].header
                                   : cells->pdata[(r - 1) * ncols + c];

            if (c + 1 < ncols)
                g_string_append_printf(line, "%-*s  ", (int)width[c], s);
            else
                g_string_append(line, s);
        }
        fprintf(o->out, "%s\n", line->str);
    }
}

void out_document(Output *o, json_object *doc)
{
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

    if (!out_is_json(o))
        return;
    flags |= o->mode == OUT_JSON_PRETTY
                 ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                 : JSON_C_TO_STRING_PLAIN;
    fprintf(o->out, "%s\n", json_object_to_json_string_ext(doc, flags));
    fflush(o->out);
    o->printed_document = TRUE;
}

int out_error(Output *o, const GError *err)
{
    int code = uintrctl_exit_code(err);
    g_autofree char *msg = g_strdup(err ? err->message : "unknown error");

    /* one line, whatever the message contained */
    g_strdelimit(msg, "\r\n", ' ');
    fflush(o->out);
    fprintf(o->err, "uintrctl: error: %s\n", msg);
    fflush(o->err);
    if (out_is_json(o) && !o->printed_document) {
        json_object *doc = json_object_new_object();
        json_object *e = json_object_new_object();

        json_object_object_add(e, "code", json_object_new_int(code));
        json_object_object_add(e, "name",
                               json_object_new_string(uintrctl_exit_name(code)));
        json_object_object_add(e, "message", json_object_new_string(msg));
        json_object_object_add(doc, "error", e);
        out_document(o, doc);
        json_object_put(doc);
    }
    return code;
}

int out_usage_error(Output *o, const char *fmt, ...)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(&err, UINTRCTL_ERROR, UINTRCTL_EXIT_USAGE,
                "%s; see 'uintrctl --help'", msg);
    return out_error(o, err);
}

void out_note(Output *o, const char *prefix, const char *msg)
{
    fflush(o->out);
    fprintf(o->err, "uintrctl: %s: %s\n", prefix, msg);
    fflush(o->err);
}

char *out_fmt_enabled(json_object *v)
{
    if (!json_object_is_type(v, json_type_boolean))
        return g_strdup("-");
    return g_strdup(json_object_get_boolean(v) ? "enabled" : "disabled");
}

char *out_fmt_bit(json_object *v)
{
    if (!json_object_is_type(v, json_type_boolean))
        return g_strdup("-");
    return g_strdup(json_object_get_boolean(v) ? "1" : "0");
}
