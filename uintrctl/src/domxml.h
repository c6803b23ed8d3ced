/* domxml.h - what a libvirt domain XML asks of the guest CPU */
#ifndef UINTRCTL_DOMXML_H
#define UINTRCTL_DOMXML_H

#include <glib.h>
#include <libxml/tree.h>

typedef enum {
    DOMXML_FEATURE_ABSENT = 0, /* no <feature name=...> element         */
    DOMXML_FEATURE_ON,         /* policy require or force                */
    DOMXML_FEATURE_OFF,        /* policy disable or forbid               */
    DOMXML_FEATURE_OPTIONAL,   /* policy optional                        */
} DomxmlRequest;

/* Does the guest CPU model include the feature (libvirt's cpu_map)? */
typedef enum {
    DOMXML_MODEL_NOT_ASKED = 0, /* explicit <feature>, no custom model...  */
    DOMXML_MODEL_INCLUDES,      /* the expanded model requires it          */
    DOMXML_MODEL_LACKS,         /* the expanded model lacks or disables it */
    DOMXML_MODEL_UNKNOWN,       /* libvirt could not expand the model      */
} DomxmlModel;

typedef struct {
    char *name;          /* /domain/name, NULL if absent               */
    gboolean has_cpu;    /* a /domain/cpu element exists               */
    char *cpu_mode;      /* /domain/cpu/@mode    (NULL if absent)      */
    char *cpu_match;     /* /domain/cpu/@match                         */
    char *cpu_check;     /* /domain/cpu/@check                         */
    char *cpu_model;     /* text of /domain/cpu/model                  */
    char *cpu_vendor;    /* text of /domain/cpu/vendor                 */
    char *arch;          /* /domain/os/type/@arch                      */
    char *policy;        /* policy of the feature, NULL if absent      */
    gboolean policy_defaulted; /* element had no policy= (libvirt: require) */
    DomxmlRequest request;
    /* What the CPU model contains, when the XML has no <feature> element
     * for the feature: filled by cpumodel_expand() (cpumodel.h), not by
     * domxml_parse(), which leaves it DOMXML_MODEL_NOT_ASKED. */
    DomxmlModel model_feature;
    char *model_error;   /* DOMXML_MODEL_UNKNOWN: why                  */
} DomCpuInfo;

/* Parse @xml (NUL-terminated) and describe the <cpu> element and the
 * <feature name='@feature'> in it.  Malformed XML, a root other than
 * <domain>, an unknown policy or the feature listed twice are errors
 * (UINTRCTL_EXIT_PROTOCOL). */
int domxml_parse(const char *xml, const char *feature, DomCpuInfo *info,
                 GError **err);
void domxml_clear(DomCpuInfo *info);

/* Parse @xml with libxml2: no network, no external entities, no messages
 * from libxml2.  Errors (UINTRCTL_EXIT_PROTOCOL) say "malformed @what";
 * the root element must be <@root>.  xmlFreeDoc() the result. */
xmlDocPtr domxml_read(const char *xml, const char *what, const char *root,
                      GError **err);

/* The request a libvirt feature policy stands for; FALSE if @policy is
 * none of require, force, disable, forbid, optional. */
gboolean domxml_policy_request(const char *policy, DomxmlRequest *request);

/* "absent", "on", "off", "optional" */
const char *domxml_request_name(DomxmlRequest r);

#endif
