/* test-output.c - text tables, JSON documents and error reporting */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"
#include "output.h"
#include "unit.h"

typedef struct {
    FILE *out, *err;
    char *out_buf, *err_buf;
    size_t out_len, err_len;
} Capture;

static Output *capture_new(Capture *c, OutputMode mode)
{
    memset(c, 0, sizeof(*c));
    c->out = open_memstream(&c->out_buf, &c->out_len);
    c->err = open_memstream(&c->err_buf, &c->err_len);
    return out_new(mode, c->out, c->err);
}

static void capture_done(Capture *c, Output *o)
{
    out_free(o);
    fclose(c->out);
    fclose(c->err);
}

static void capture_clear(Capture *c)
{
    free(c->out_buf);
    free(c->err_buf);
}

static json_object *rows(void)
{
    return json_tokener_parse(
        "[{\"cpu-index\": 0, \"qom-path\": \"/machine/unattached/device[0]\","
        "  \"uintr\": true, \"bit\": true},"
        " {\"cpu-index\": 10, \"qom-path\": \"/m/d[2]\", \"uintr\": false,"
        "  \"bit\": null}]");
}

static const OutColumn cols[] = {
    { "vCPU", "cpu-index", NULL },
    { "qom-path", "qom-path", NULL },
    { "uintr", "uintr", out_fmt_enabled },
    { "bit", "bit", out_fmt_bit },
};

static void text_table(void)
{
    Capture c;
    Output *o = capture_new(&c, OUT_TEXT);
    json_object *r = rows();

    out_text(o, "header %d", 1);
    out_table(o, cols, G_N_ELEMENTS(cols), r);
    out_document(o, r); /* ignored in text mode */
    capture_done(&c, o);
    CHECK_STR(c.out_buf,
              "header 1\n"
              "vCPU  qom-path                       uintr     bit\n"
              "0     /machine/unattached/device[0]  enabled   1\n"
              "10    /m/d[2]                        disabled  -\n");
    CHECK_STR(c.err_buf, "");
    json_object_put(r);
    capture_clear(&c);
}

static void json_document(void)
{
    Capture c;
    Output *o = capture_new(&c, OUT_JSON);
    json_object *r = rows();
    json_object *back;

    out_text(o, "header");                      /* ignored in JSON mode */
    out_table(o, cols, G_N_ELEMENTS(cols), r);  /* ignored in JSON mode */
    out_document(o, r);
    capture_done(&c, o);
    back = json_tokener_parse(c.out_buf);
    CHECK(back != NULL);
    CHECK(json_object_equal(back, r));
    CHECK_INT(strchr(c.out_buf, '\n') - c.out_buf, (long)c.out_len - 1);
    json_object_put(back);
    json_object_put(r);
    capture_clear(&c);
}

static void errors_text_and_json(void)
{
    Capture c;
    Output *o = capture_new(&c, OUT_TEXT);
    g_autoptr(GError) err = g_error_new(UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                                        "cannot connect\nsecond line");
    json_object *doc, *e, *v;

    CHECK_INT(out_error(o, err), 4);
    capture_done(&c, o);
    CHECK_STR(c.out_buf, "");
    CHECK_STR(c.err_buf, "uintrctl: error: cannot connect second line\n");
    capture_clear(&c);

    o = capture_new(&c, OUT_JSON_PRETTY);
    CHECK_INT(out_error(o, err), 4);
    capture_done(&c, o);
    CHECK_STR(c.err_buf, "uintrctl: error: cannot connect second line\n");
    doc = json_tokener_parse(c.out_buf);
    CHECK(json_object_object_get_ex(doc, "error", &e));
    CHECK(json_object_object_get_ex(e, "code", &v) && json_object_get_int(v) == 4);
    CHECK(json_object_object_get_ex(e, "name", &v));
    CHECK_STR(json_object_get_string(v), "connect");
    CHECK(strchr(c.out_buf, '\n') < c.out_buf + c.out_len - 1); /* pretty */
    json_object_put(doc);
    capture_clear(&c);

    /* after a document, an error goes to stderr only */
    o = capture_new(&c, OUT_JSON);
    doc = json_object_new_object();
    out_document(o, doc);
    out_error(o, err);
    capture_done(&c, o);
    CHECK_STR(c.out_buf, "{}\n");
    json_object_put(doc);
    capture_clear(&c);
}

const UnitTest output_tests[] = {
    { "text-table", text_table },
    { "json-document", json_document },
    { "errors-text-and-json", errors_text_and_json },
    { NULL, NULL },
};
