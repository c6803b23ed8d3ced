/* output.h - the one output layer: text or JSON
 *
 * A handler describes its result once, as json-c objects, and calls
 * out_*(); the Output decides what reaches stdout: in text mode the
 * header lines and aligned tables, in JSON mode only the document.
 * Handlers never printf.
 */
#ifndef UINTRCTL_OUTPUT_H
#define UINTRCTL_OUTPUT_H

#include <stdio.h>

#include <glib.h>
#include <json-c/json.h>

typedef struct Output Output;

typedef enum {
    OUT_TEXT = 0,
    OUT_JSON,
    OUT_JSON_PRETTY,
} OutputMode;

Output *out_new(OutputMode mode, FILE *out, FILE *err);
void out_free(Output *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Output, out_free)

gboolean out_is_json(const Output *o);

/* Text mode: print one line (printf format, newline added). */
void out_text(Output *o, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Format a table cell from a JSON value (NULL/absent -> "-"). */
typedef char *(*OutCellFormat)(json_object *value);

typedef struct {
    const char *header;
    const char *key;        /* member of each row object */
    OutCellFormat format;   /* NULL: strings as is, others as JSON */
} OutColumn;

/* Text mode: print @rows (array of objects) as a table with aligned
 * columns, like bpftool/virsh. */
void out_table(Output *o, const OutColumn *cols, size_t ncols,
               json_object *rows);

/* JSON mode: print @doc (borrowed) as the single JSON document. */
void out_document(Output *o, json_object *doc);

/* Report @err: always one line "uintrctl: error: ..." on stderr; in
 * JSON mode also {"error": {"code": N, "name": ..., "message": ...}}
 * on stdout unless a document was printed already.  Returns the exit
 * code for @err. */
int out_error(Output *o, const GError *err);

/* Report a usage error: out_error() with exit code 2 and a pointer to
 * --help.  Returns 2. */
int out_usage_error(Output *o, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A non-error note on stderr ("uintrctl: PREFIX: message"). */
void out_note(Output *o, const char *prefix, const char *msg);

/* cell formatters */
char *out_fmt_enabled(json_object *v);  /* true/false -> enabled/disabled */
char *out_fmt_bit(json_object *v);      /* true/false -> 1/0 */

#endif
