/* fuzz-qmp-reply.c - a whole QMP reply text, as libvirt hands it over:
 * strict JSON parsing and reply interpretation */
#include "fuzz.h"
#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_string(data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(json_object) reply = qmp_json_parse("fuzz", text, &err);
    g_autoptr(json_object) ret = NULL;

    if (reply)
        qmp_reply_parse("fuzz", reply, &ret, &err);
    return 0;
}
