/* qmp-events.h - one QMP message parsed by events (yajl)
 *
 * The one reply that can be large, query-uintr's, is not parsed into a
 * json-c tree: a QmpEvents parses the message with yajl's event API,
 * sends the events of the value of its top-level "return" member to a
 * QmpReturnSink (qmp.h) as they come, and builds only the rest of the
 * message (an id, an error, an event) as the json-c objects json-c's
 * tokener would have built, with "return": null in place of the value.
 * It is fed the bytes in pieces of any size and holds none of them.
 *
 * The language is json-c's strict mode (qmp-stream.h, qmp_json_parse)
 * as far as yajl can tell: nesting deeper than json-c's 32 levels, NUL,
 * vertical tab and form feed outside strings are errors; keys end at an
 * escaped NUL; duplicate keys keep the last value; integers saturate.
 * Where json-c's strict mode accepts what is not JSON (NaN, Infinity,
 * "1.", raw control characters inside strings) yajl, and so this
 * parser, rejects it; a lone UTF-16 surrogate escape decodes to '?'
 * here and to U+FFFD in json-c.  Syntax errors are described in
 * json-c's words where yajl's error maps onto one.
 */
#ifndef UINTRCTL_QMP_EVENTS_H
#define UINTRCTL_QMP_EVENTS_H

#include "qmp.h"

typedef struct QmpEvents QmpEvents;

typedef enum {
    QMP_EVENTS_MORE,   /* all bytes taken, the message goes on */
    QMP_EVENTS_DONE,   /* a message is complete */
    QMP_EVENTS_ERROR,  /* not JSON: the parser is unusable */
} QmpEventsStatus;

/* @sink may be NULL: the whole message is then built with json-c. */
QmpEvents *qmp_events_new(const QmpReturnSink *sink);
void qmp_events_free(QmpEvents *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpEvents, qmp_events_free)

/* Change the sink of the message in progress, and of the next ones
 * (NULL: none).  A "return" value already half sent to the old sink is
 * lost to the new one: the message then ends with "return": null, not
 * routed. */
void qmp_events_set_sink(QmpEvents *p, const QmpReturnSink *sink);

/* Start over: the next byte begins a message. */
void qmp_events_reset(QmpEvents *p);

/* Parse @len bytes.  *@used: how many of them were taken (all of them
 * unless DONE, or ERROR at a byte json-c refuses).  DONE: *@msg is the
 * message (new reference; NULL for a JSON null), *@routed whether a
 * "return" value went to the sink, and the parser is ready for the next
 * message.  ERROR: *@desc describes it in json-c's terms. */
QmpEventsStatus qmp_events_feed(QmpEvents *p, const void *data, size_t len,
                                size_t *used, json_object **msg,
                                gboolean *routed, const char **desc);

/* The input ends: complete a message that only a terminator was
 * missing for (a top-level number); else ERROR. */
QmpEventsStatus qmp_events_finish(QmpEvents *p, json_object **msg,
                                  gboolean *routed, const char **desc);

/* One whole reply text, as libvirt hands it over: the same result and
 * errors as qmp_json_parse(@what, @text) ("malformed JSON in WHAT:
 * ...", json-c's own words: on a syntax error the text is parsed again
 * by json-c for them), but the "return" value goes to @sink. */
json_object *qmp_events_parse_text(const char *what, const char *text,
                                   const QmpReturnSink *sink,
                                   gboolean *routed, GError **err);

#endif
