/* uintr-stream.h - the reply to query-uintr, decoded from JSON events
 *
 * A UintrStream is driven by yajl's parser callbacks with the events of
 * one JSON value, the "return" value of a query-uintr reply, in order
 * (qmp-events.h routes them there straight from the socket chunks or
 * the libvirt reply string).  It builds the UintrVcpu list as the
 * events come and holds nothing else but the scalar members of the
 * objects that are open: no text, no tree.
 *
 * The checks, their messages and their precedence are those of a walk
 * over the whole value (uintr-state.h): the first bad vCPU in list
 * order; inside a vCPU its own members in schema order, then 'qom-path',
 * its UPID, the UITT length, and the first bad UITT entry.  So a
 * decoding error never stops the events: the first one is kept (what
 * follows it is only skipped) and uintr_stream_finish() reports it.
 * As with json-c's tree, a JSON null member counts as absent (but
 * present for "comes with 'error'"), a duplicate key's last value wins,
 * unknown members are ignored, keys end at an escaped NUL, and integers
 * beyond 64 bits saturate (at UINT64_MAX, or INT64_MIN if negative).
 */
#ifndef UINTRCTL_UINTR_STREAM_H
#define UINTRCTL_UINTR_STREAM_H

#include <glib.h>
#include <yajl/yajl_parse.h>

typedef struct UintrStream UintrStream;

UintrStream *uintr_stream_new(void);
void uintr_stream_free(UintrStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UintrStream, uintr_stream_free)

/* yajl callbacks (yajl_number for numbers: the text is kept exact);
 * their context is the UintrStream.  They never cancel the parse. */
extern const yajl_callbacks uintr_stream_callbacks;

/* Forget everything: the events of a new value follow. */
void uintr_stream_reset(UintrStream *s);

/* After the events of one complete value: the vCPUs sorted by
 * cpu-index (a GPtrArray of UintrVcpu), or NULL with @err set
 * (UINTRCTL_EXIT_PROTOCOL, "malformed reply to 'query-uintr': ...").
 * The stream is reset. */
GPtrArray *uintr_stream_finish(UintrStream *s, GError **err);

/* Decode one complete JSON text of the value with yajl (e.g. a json-c
 * value serialised again). */
GPtrArray *uintr_stream_decode_text(const char *text, size_t len,
                                    GError **err);

#endif
