/* qmp.c - transport-neutral QMP command execution */
#include <string.h>

#include "errors.h"
#include "qmp.h"

G_DEFINE_QUARK(qmp-reply-error-quark, qmp_reply_error)

static const struct {
    const char *name;
    QmpErrorClass cls;
} qmp_error_classes[] = {
    { "GenericError", QMP_ERROR_CLASS_GENERIC },
    { "CommandNotFound", QMP_ERROR_CLASS_COMMAND_NOT_FOUND },
    { "DeviceNotActive", QMP_ERROR_CLASS_DEVICE_NOT_ACTIVE },
    { "DeviceNotFound", QMP_ERROR_CLASS_DEVICE_NOT_FOUND },
    { "KVMMissingCap", QMP_ERROR_CLASS_KVM_MISSING_CAP },
};

QmpErrorClass qmp_error_class_from_string(const char *s)
{
    for (size_t i = 0; s && i < G_N_ELEMENTS(qmp_error_classes); i++)
        if (strcmp(s, qmp_error_classes[i].name) == 0)
            return qmp_error_classes[i].cls;
    return QMP_ERROR_CLASS_OTHER;
}

int qmp_reply_parse(const char *what, json_object *reply, json_object **ret,
                    GError **err)
{
    json_object *val, *cls, *desc;

    if (!json_object_is_type(reply, json_type_object)) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed reply to '%s': expected a JSON object, got %s",
                    what, json_type_to_name(json_object_get_type(reply)));
        return -1;
    }
    if (json_object_object_get_ex(reply, "error", &val)) {
        if (!json_object_is_type(val, json_type_object) ||
            !json_object_object_get_ex(val, "class", &cls) ||
            !json_object_is_type(cls, json_type_string) ||
            !json_object_object_get_ex(val, "desc", &desc) ||
            !json_object_is_type(desc, json_type_string)) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed error reply to '%s': 'error' must be an "
                        "object with string members 'class' and 'desc'", what);
            return -1;
        }
        g_set_error(err, QMP_REPLY_ERROR,
                    qmp_error_class_from_string(json_object_get_string(cls)),
                    "%s", json_object_get_string(desc));
        return -1;
    }
    if (!json_object_object_get_ex(reply, "return", &val)) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed reply to '%s': neither 'return' nor 'error'",
                    what);
        return -1;
    }
    if (ret)
        *ret = json_object_get(val);
    return 0;
}

int qmp_execute(QmpTransport *t, const char *cmd, json_object *args,
                json_object **ret, GError **err)
{
    json_object *req = json_object_new_object();
    json_object *reply;
    int rc;

    if (ret)
        *ret = NULL;
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", json_object_get(args));
    reply = t->ops->exchange(t, req, NULL, NULL, err);
    json_object_put(req);
    if (!reply)
        return -1;
    rc = qmp_reply_parse(cmd, reply, ret, err);
    json_object_put(reply);
    return rc;
}

int qmp_execute_events(QmpTransport *t, const char *cmd,
                       const QmpReturnSink *sink, GError **err)
{
    json_object *req = json_object_new_object();
    json_object *reply;
    gboolean routed = FALSE;
    int rc;

    json_object_object_add(req, "execute", json_object_new_string(cmd));
    reply = t->ops->exchange(t, req, sink, &routed, err);
    json_object_put(req);
    if (!reply)
        return -1;
    rc = qmp_reply_parse(cmd, reply, NULL, err);
    json_object_put(reply);
    /* qmp-events.h: only a "return" torn between two sinks is not routed */
    if (rc == 0 && !routed) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed reply to '%s': its 'return' value was not "
                    "decoded", cmd);
        rc = -1;
    }
    return rc;
}

gboolean qmp_error_is_property_not_found(const GError *err, const char *name)
{
    g_autofree char *suffix = NULL;

    if (!err || err->domain != QMP_REPLY_ERROR)
        return FALSE;
    /* QEMU: error_setg(errp, "Property '%s.%s' not found", type, name) */
    suffix = g_strdup_printf(".%s' not found", name);
    return g_str_has_prefix(err->message, "Property '") &&
           g_str_has_suffix(err->message, suffix);
}

void qmp_transport_free(QmpTransport *t)
{
    if (!t)
        return;
    g_free(t->description);
    t->ops->free(t);
}

json_object *qmp_json_parse(const char *what, const char *text, GError **err)
{
    json_tokener *tok = json_tokener_new();
    size_t len = strlen(text);
    json_object *obj;
    enum json_tokener_error jerr;
    size_t end;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                JSON_TOKENER_ALLOW_TRAILING_CHARS);
    obj = json_tokener_parse_ex(tok, text, (int)MIN(len, (size_t)G_MAXINT));
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!obj && jerr == json_tokener_continue) {
        /* the tokener waits for more: a number at the very end can be
         * finished by a terminating NUL; anything else is truncated */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);
    if (!obj) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed JSON in %s: %s", what,
                    jerr == json_tokener_continue || jerr == json_tokener_success
                        ? "truncated (or JSON null)"
                        : json_tokener_error_desc(jerr));
        return NULL;
    }
    for (; end < len; end++) {
        if (!g_ascii_isspace(text[end])) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed JSON in %s: unexpected data after the "
                        "JSON value at offset %zu", what, end);
            json_object_put(obj);
            return NULL;
        }
    }
    return obj;
}
