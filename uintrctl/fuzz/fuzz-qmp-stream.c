/* fuzz-qmp-stream.c - the QMP socket byte stream: framing into JSON
 * messages, fed in pieces whose size the first byte chooses, with a
 * small message cap so that the cap is reached too */
#include "fuzz.h"
#include "qmp-stream.h"
#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(QmpStream) s = qmp_stream_new(4096);
    size_t chunk;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    for (size_t off = 0; off < size; off += chunk) {
        g_autoptr(GError) err = NULL;
        json_object *msg;

        qmp_stream_feed(s, data + off, MIN(chunk, size - off));
        while ((msg = qmp_stream_next(s, "fuzz", "a message", &err))) {
            g_autoptr(GError) rerr = NULL;
            g_autoptr(json_object) ret = NULL;

            qmp_reply_parse("fuzz", msg, &ret, &rerr);
            json_object_put(msg);
        }
        if (err)
            return 0;
    }
    (void)qmp_stream_in_message(s);
    return 0;
}
