/* fuzz-domxml.c - libvirt XML: a domain XML (domxml_parse) and an
 * expanded CPU from virConnectBaselineCPU (cpumodel_parse_expanded) */
#include "cpumodel.h"
#include "domxml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_string(data, size);
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autofree char *input = NULL;
    DomCpuInfo info;
    gboolean includes;

    if (domxml_parse(text, "uintr", &info, &e1) == 0) {
        input = cpumodel_baseline_input(&info, &e3);
        domxml_clear(&info);
    }
    cpumodel_parse_expanded(text, "uintr", &includes, &e2);
    return 0;
}
