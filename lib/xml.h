/* lib/xml.h - a small XML reader for EC2's Query API answers (lib/xml.c,
 * over expat; the expat types stay inside xml.c). The whole document is
 * read into a tree of elements with their trimmed text; lookups are by
 * slash paths of element names ("instancesSet/item/instanceId"). No DTDs,
 * no entities beyond XML's own, bounded size, depth and element count. */
#ifndef MVM_XML_H
#define MVM_XML_H

#define XML_DOC_MAX (8 << 20)
#define XML_NODES_MAX 200000
#define XML_DEPTH_MAX 64

struct xml;     /* an element (a document is its root element) */

/* NULL with mvm.err ("malformed XML: ... at line N"). */
struct xml *xml_parse(const char *s, size_t len);
void xml_free(struct xml *doc);
const char *xml_name(const struct xml *n);
/* The first element at PATH below N ("" or NULL: N itself), or NULL. */
const struct xml *xml_find(const struct xml *n, const char *path);
/* Its trimmed text ("" for an empty element), or NULL if absent. */
const char *xml_text(const struct xml *n, const char *path);
/* Up to MAX elements at PATH below N, in document order; the count. */
int xml_all(const struct xml *n, const char *path, const struct xml **out,
            int max);

#endif
