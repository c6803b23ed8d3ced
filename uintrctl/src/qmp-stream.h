/* qmp-stream.h - split a QMP byte stream into JSON messages
 *
 * QEMU's QMP monitor sends a stream of JSON objects, separated by
 * whitespace (in practice "\r\n"), in arbitrary pieces.  A QmpStream is
 * fed the bytes as they arrive and hands back one complete JSON value
 * at a time, parsed by json-c's streaming json_tokener in strict mode.
 * Bytes are handed to the tokener as they come and dropped once it has
 * consumed them, so the stream holds at most one read chunk of text
 * besides the (partial) json-c tree of the message being parsed.  A
 * message larger than the stream's cap is an error.
 *
 * qmp_stream_next_events() parses with qmp-events.h instead, so that
 * the "return" value of a reply goes to a sink as events and no tree of
 * it is ever built (query-uintr's reply).  A message is finished by the
 * parser it began with.
 */
#ifndef UINTRCTL_QMP_STREAM_H
#define UINTRCTL_QMP_STREAM_H

#include <glib.h>
#include <json-c/json.h>

#include "qmp.h"

/* No single QMP message uintrctl expects comes near this. */
#define QMP_MAX_MESSAGE (16u * 1024 * 1024)

typedef struct QmpStream QmpStream;

QmpStream *qmp_stream_new(size_t max_message);
void qmp_stream_free(QmpStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpStream, qmp_stream_free)

/* Append received bytes. */
void qmp_stream_feed(QmpStream *s, const void *data, size_t len);

/* The next complete JSON value (new reference).  NULL without @err set
 * when more bytes are needed; NULL with @err set (UINTRCTL_EXIT_PROTOCOL)
 * on garbage or an oversized message, after which the stream is
 * unusable.  @where ("QMP socket /x") and @waiting_for ("the reply to
 * 'qom-get'") go into the message. */
json_object *qmp_stream_next(QmpStream *s, const char *where,
                             const char *waiting_for, GError **err);

/* The same, but the message is parsed by events: the value of its
 * top-level "return" member goes to @sink (*@routed TRUE; the message
 * has "return": null).  Garbage and the cap are the same errors. */
json_object *qmp_stream_next_events(QmpStream *s, const QmpReturnSink *sink,
                                    gboolean *routed, const char *where,
                                    const char *waiting_for, GError **err);

/* A non-blank byte of an unfinished message has been seen. */
gboolean qmp_stream_in_message(const QmpStream *s);

#endif
