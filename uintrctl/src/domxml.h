/* domxml.h - what a libvirt domain XML asks of the guest CPU */
#ifndef UINTRCTL_DOMXML_H
#define UINTRCTL_DOMXML_H

#include <glib.h>

typedef enum {
    DOMXML_FEATURE_ABSENT = 0, /* no <feature name=...> element         */
    DOMXML_FEATURE_ON,         /* policy require or force                */
    DOMXML_FEATURE_OFF,        /* policy disable or forbid               */
    DOMXML_FEATURE_OPTIONAL,   /* policy optional                        */
} DomxmlRequest;

typedef struct {
    char *name;          /* /domain/name, NULL if absent               */
    gboolean has_cpu;    /* a /domain/cpu element exists               */
    char *cpu_mode;      /* /domain/cpu/@mode    (NULL if absent)      */
    char *cpu_match;     /* /domain/cpu/@match                         */
    char *cpu_check;     /* /domain/cpu/@check                         */
    char *cpu_model;     /* text of /domain/cpu/model                  */
    char *policy;        /* policy of the feature, NULL if absent      */
    gboolean policy_defaulted; /* element had no policy= (libvirt: require) */
    DomxmlRequest request;
} DomCpuInfo;

/* Parse @xml (NUL-terminated) and describe the <cpu> element and the
 * <feature name='@feature'> in it.  Malformed XML, a root other than
 * <domain>, an unknown policy or the feature listed twice are errors
 * (UINTRCTL_EXIT_PROTOCOL). */
int domxml_parse(const char *xml, const char *feature, DomCpuInfo *info,
                 GError **err);
void domxml_clear(DomCpuInfo *info);

/* "absent", "on", "off", "optional" */
const char *domxml_request_name(DomxmlRequest r);

#endif
