/* virtune-host's view of libvirt: the running domains, their agent channel's socket, and setup. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <assert.h>
#include <inttypes.h>
#include "dl.h"
#include "log.h"
#include "host.h"

/*
 * libvirt (and libxml2, which it brings) are opened on first use: they map some forty libraries
 * (gnutls, libssh, ...), which --socket and scan DIR have no use for.
 */
static typeof(virSetErrorFunc) *sym_virSetErrorFunc;
static typeof(virGetLastErrorMessage) *sym_virGetLastErrorMessage;
static typeof(virConnectOpen) *sym_virConnectOpen;
static typeof(virConnectOpenReadOnly) *sym_virConnectOpenReadOnly;
static typeof(virConnectClose) *sym_virConnectClose;
static typeof(virDomainFree) *sym_virDomainFree;
static typeof(virDomainGetName) *sym_virDomainGetName;
static typeof(virDomainGetUUIDString) *sym_virDomainGetUUIDString;
static typeof(virDomainGetID) *sym_virDomainGetID;
static typeof(virDomainIsActive) *sym_virDomainIsActive;
static typeof(virDomainIsPersistent) *sym_virDomainIsPersistent;
static typeof(virDomainGetXMLDesc) *sym_virDomainGetXMLDesc;
static typeof(virDomainLookupByName) *sym_virDomainLookupByName;
static typeof(virDomainLookupByUUIDString) *sym_virDomainLookupByUUIDString;
static typeof(virConnectListAllDomains) *sym_virConnectListAllDomains;
static typeof(virDomainAttachDeviceFlags) *sym_virDomainAttachDeviceFlags;
static typeof(xmlReadMemory) *sym_xmlReadMemory;
static typeof(xmlDocGetRootElement) *sym_xmlDocGetRootElement;
static typeof(xmlGetProp) *sym_xmlGetProp;
static typeof(xmlFreeDoc) *sym_xmlFreeDoc;
static typeof(xmlMemGet) *sym_xmlMemGet;

static const struct vt_dl_sym virt_syms[] = {
        VT_DL_SYM(virSetErrorFunc),          VT_DL_SYM(virGetLastErrorMessage),
        VT_DL_SYM(virConnectOpen),           VT_DL_SYM(virConnectOpenReadOnly),
        VT_DL_SYM(virConnectClose),          VT_DL_SYM(virDomainFree),
        VT_DL_SYM(virDomainGetName),         VT_DL_SYM(virDomainGetUUIDString),
        VT_DL_SYM(virDomainGetID),           VT_DL_SYM(virDomainIsActive),
        VT_DL_SYM(virDomainIsPersistent),    VT_DL_SYM(virDomainGetXMLDesc),
        VT_DL_SYM(virDomainLookupByName),    VT_DL_SYM(virDomainLookupByUUIDString),
        VT_DL_SYM(virConnectListAllDomains), VT_DL_SYM(virDomainAttachDeviceFlags),
};
static const struct vt_dl_sym xml_syms[] = {
        VT_DL_SYM(xmlReadMemory), VT_DL_SYM(xmlDocGetRootElement),
        VT_DL_SYM(xmlGetProp),    VT_DL_SYM(xmlFreeDoc),
        VT_DL_SYM(xmlMemGet),
};
static struct vt_dl_lib libvirt_libs[] = {
        VT_DL_LIB("libvirt.so.0", virt_syms, .package = "libvirt0"),
        VT_DL_LIB("libxml2.so.2", xml_syms, .package = "libxml2"),
};
static xmlFreeFunc xml_free;

static int load(char *err, size_t errlen)
{
        if (vt_dl_open_all(libvirt_libs, ARRAY_SIZE(libvirt_libs)) < 0) {
                vt_dl_error_all(libvirt_libs, ARRAY_SIZE(libvirt_libs), err, errlen);
                return -EOPNOTSUPP;
        }
        if (!xml_free && sym_xmlMemGet(&xml_free, NULL, NULL, NULL) < 0)
                xml_free = free;
        return 0;
}

/* libvirt prints every error to stderr by default; the caller reports ours once. */
static void quiet(void *userdata, virErrorPtr err)
{
        (void)userdata, (void)err;
}

static int fail(char *err, size_t errlen, int r, const char *what)
{
        const char *msg = sym_virGetLastErrorMessage();
        snprintf(err, errlen, "%s: %s", what, msg ? msg : "unknown libvirt error");
        return r;
}

static void conn_closep(virConnectPtr *c)
{
        if (*c)
                sym_virConnectClose(*c);
}
static void dom_freep(virDomainPtr *d)
{
        if (*d)
                sym_virDomainFree(*d);
}
static void xml_docp(xmlDocPtr *d)
{
        if (*d)
                sym_xmlFreeDoc(*d);
}

static int connect_uri(const char *uri, bool read_only, virConnectPtr *ret, char *err,
                       size_t errlen)
{
        int r = load(err, errlen);
        if (r < 0)
                return r;
        sym_virSetErrorFunc(NULL, quiet);
        int64_t t0 = vt_host_now_ms();
        *ret = read_only ? sym_virConnectOpenReadOnly(uri) : sym_virConnectOpen(uri);
        log_debug("libvirt: connected to %s in %" PRId64 " ms", uri, vt_host_now_ms() - t0);
        if (!*ret) {
                char what[256];
                snprintf(what, sizeof(what), "cannot connect to libvirt at %s", uri);
                return fail(err, errlen, -ENOTCONN, what);
        }
        return 0;
}

/* The domain DOMAIN names, by name or UUID, as virsh takes it. */
static int lookup_domain(virConnectPtr conn, const char *uri, const char *domain, virDomainPtr *ret,
                         char *err, size_t errlen)
{
        *ret = sym_virDomainLookupByName(conn, domain);
        if (!*ret)
                *ret = sym_virDomainLookupByUUIDString(conn, domain);
        if (!*ret) {
                snprintf(err, errlen, "no domain named %s at %s (virsh -c %s list --all)", domain,
                         uri, uri);
                return -ENOENT;
        }
        return 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
        for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && streq((const char *)c->name, name))
                        return c;
        return NULL;
}

static bool attr_is(xmlNodePtr n, const char *attr, const char *want)
{
        xmlChar *v = n ? sym_xmlGetProp(n, (const xmlChar *)attr) : NULL;
        bool r = v && streq((const char *)v, want);
        if (v)
                xml_free(v);
        return r;
}

/*
 * The channel for port in a domain's XML: 1 with *path (malloc'd, NULL when libvirt has not
 * named it yet, as in an inactive definition) when there is one, 0 when there is none.
 */
static int channel_find(const char *xml, const char *port, char **path)
{
        *path = NULL;
        _cleanup_(xml_docp) xmlDocPtr doc =
                sym_xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
        if (!root || !streq((const char *)root->name, "domain"))
                return -EBADMSG;
        for (xmlNodePtr c = child(root, "devices") ? child(root, "devices")->children : NULL; c;
             c = c->next) {
                if (c->type != XML_ELEMENT_NODE || !streq((const char *)c->name, "channel"))
                        continue;
                xmlNodePtr t = child(c, "target");
                if (!attr_is(t, "type", "virtio") || !attr_is(t, "name", port))
                        continue;
                xmlChar *p = attr_is(c, "type", "unix")
                                     ? sym_xmlGetProp(child(c, "source"), (const xmlChar *)"path")
                                     : NULL;
                if (p) {
                        *path = strdup((const char *)p);
                        xml_free(p);
                        if (!*path)
                                return -ENOMEM;
                }
                return 1;
        }
        return 0;
}

/* One domain as a target; active: 1 running, 0 not, -1 ask libvirt. */
static int target_fill(virDomainPtr d, int active, const char *port, struct vt_host_target *t,
                       char *err, size_t errlen)
{
        char uuid[VIR_UUID_STRING_BUFLEN];
        const char *name = sym_virDomainGetName(d);
        *t = (struct vt_host_target){};
        if (!name || sym_virDomainGetUUIDString(d, uuid) < 0)
                return fail(err, errlen, -EIO, "cannot read a domain's name and UUID");
        if (!(t->domain = strdup(name)) || !(t->uuid = strdup(uuid)))
                return -ENOMEM;
        if (active < 0)
                active = sym_virDomainIsActive(d);
        _cleanup_free_ char *xml = active == 1 ? sym_virDomainGetXMLDesc(d, 0) : NULL;
        /* No live XML: it stopped since it was listed. */
        t->running = xml != NULL;
        if (xml && channel_find(xml, port, &t->socket) < 0) {
                snprintf(err, errlen, "domain %s: libvirt's XML does not parse", name);
                return -EBADMSG;
        }
        return 0;
}

int vt_host_libvirt_targets(const char *uri, const char *domain, const char *port,
                            struct vt_host_targets *t, char *err, size_t errlen)
{
        _cleanup_(conn_closep) virConnectPtr conn = NULL;
        struct vt_host_target one;
        int r = connect_uri(uri, true, &conn, err, errlen);
        if (r < 0)
                return r;
        _cleanup_(dom_freep) virDomainPtr d = NULL;
        r = lookup_domain(conn, uri, domain, &d, err, errlen);
        if (r < 0)
                return r;
        r = target_fill(d, -1, port, &one, err, errlen);
        if (r >= 0)
                r = vt_host_targets_add(t, one.socket, one.domain, one.uuid, one.running);
        free(one.socket), free(one.domain), free(one.uuid);
        return r;
}

struct vt_host_libvirt {
        char *uri;
        const char *port;
        virConnectPtr conn;
};

static int cmp_dom(const void *a, const void *b)
{
        const char *x = sym_virDomainGetName(*(virDomainPtr const *)a);
        const char *y = sym_virDomainGetName(*(virDomainPtr const *)b);
        return strcmp(x ? x : "", y ? y : "");
}

/*
 * The tail of the socket path libvirt's qemu driver gives a channel without one:
 * "/domain-ID-NAME/PORT" under its channel directory, NAME cut to 20 bytes
 * (qemuDomainSetPrivatePaths, virDomainDefGetShortName: "%d-%.*s"). A name with non-ASCII bytes
 * is cut by characters in the daemon's locale, which we cannot know: -EINVAL, read the XML.
 */
static int conventional_tail(virDomainPtr d, const char *port, char *buf, size_t len)
{
        const char *name = sym_virDomainGetName(d);
        unsigned id = sym_virDomainGetID(d);
        if (!name || id == (unsigned)-1)
                return -EINVAL;
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c >= 0x80)
                        return -EINVAL;
        int n = snprintf(buf, len, "/domain-%u-%.20s/%s", id, name, port);
        return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/*
 * One running domain. With *dir (libvirt's channel directory, learnt from an earlier domain's
 * XML) and a socket at the conventional path, that is the channel: no XML. Otherwise the live
 * XML says, and a path of the conventional form teaches *dir.
 */
static int domain_target(struct vt_host_libvirt *lv, virDomainPtr d, char **dir,
                         struct vt_host_target *t, size_t *xml_reads, char *err, size_t errlen)
{
        char tail[PATH_MAX], path[PATH_MAX];
        bool conventional = conventional_tail(d, lv->port, tail, sizeof(tail)) == 0;
        if (conventional && *dir &&
            snprintf(path, sizeof(path), "%s%s", *dir, tail) < (int)sizeof(path) &&
            vt_host_is_socket(path)) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                const char *name = sym_virDomainGetName(d);
                *t = (struct vt_host_target){.running = true};
                if (!name || sym_virDomainGetUUIDString(d, uuid) < 0)
                        return fail(err, errlen, -EIO, "cannot read a domain's name and UUID");
                if (!(t->domain = strdup(name)) || !(t->uuid = strdup(uuid)) ||
                    !(t->socket = strdup(path)))
                        return -ENOMEM;
                return 0;
        }
        (*xml_reads)++;
        int r = target_fill(d, 1, lv->port, t, err, errlen);
        if (r < 0 || !conventional || *dir || !t->socket)
                return r;
        size_t n = strlen(t->socket), k = strlen(tail);
        if (n <= k || !streq(t->socket + n - k, tail))
                return 0;
        if (!(*dir = strndup(t->socket, n - k)))
                return -ENOMEM;
        /* tests/libvirt checks that a real qemu driver names the socket so */
        log_info("libvirt: channels named under %s (%s's XML)", *dir, t->domain);
        return 0;
}

static int libvirt_resolve(void *userdata, struct vt_host_targets *t, char *err, size_t errlen)
{
        struct vt_host_libvirt *lv = userdata;
        virDomainPtr *doms = NULL;
        _cleanup_free_ char *dir = NULL;
        size_t xml_reads = 0;
        int64_t t0 = vt_host_now_ms();
        int r = connect_uri(lv->uri, true, &lv->conn, err, errlen);
        if (r < 0)
                return r;
        int n = sym_virConnectListAllDomains(lv->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0)
                return fail(err, errlen, -EIO, "cannot list the domains");
        if (n > 1) /* libvirt lists in no particular order; the name is local, no call */
                qsort(doms, (size_t)n, sizeof(*doms), cmp_dom);
        for (int i = 0; i < n; i++) {
                struct vt_host_target one = {};
                if (r >= 0)
                        r = domain_target(lv, doms[i], &dir, &one, &xml_reads, err, errlen);
                if (r >= 0)
                        r = vt_host_targets_add(t, one.socket, one.domain, one.uuid, one.running);
                free(one.socket), free(one.domain), free(one.uuid);
                sym_virDomainFree(doms[i]);
        }
        free(doms);
        /* bench/libvirt-scan reads this line. */
        if (r >= 0)
                log_info("libvirt: %d running domains at %s in %" PRId64 " ms, %zu XML reads", n,
                         lv->uri, vt_host_now_ms() - t0, xml_reads);
        return r;
}

void vt_host_libvirt_close(struct vt_host_libvirt *lv)
{
        if (!lv)
                return;
        if (lv->conn)
                sym_virConnectClose(lv->conn);
        free(lv->uri);
        free(lv);
}

int vt_host_libvirt_source(const char *uri, const char *port, struct vt_host_libvirt **ret,
                           struct vt_scan_source *src)
{
        struct vt_host_libvirt *lv = calloc(1, sizeof(*lv));
        if (!lv || !(lv->uri = strdup(uri))) {
                free(lv);
                return -ENOMEM;
        }
        lv->port = port;
        *src = (struct vt_scan_source){.resolve = libvirt_resolve, .userdata = lv};
        *ret = lv;
        return 0;
}

/* One XML (live or inactive) holds the channel already: 1, 0 not, -errno. */
static int has_channel(virDomainPtr d, unsigned xml_flags, const char *port)
{
        _cleanup_free_ char *xml = sym_virDomainGetXMLDesc(d, xml_flags);
        _cleanup_free_ char *path = NULL;
        return xml ? channel_find(xml, port, &path) : -EIO;
}

int vt_host_libvirt_setup(const char *uri, const char *domain, const char *port, bool live,
                          bool config, unsigned *added, char *err, size_t errlen)
{
        _cleanup_(conn_closep) virConnectPtr conn = NULL;
        char what[256], xml[256];
        *added = 0;
        int r = connect_uri(uri, false, &conn, err, errlen);
        if (r < 0)
                return r;
        _cleanup_(dom_freep) virDomainPtr d = NULL;
        r = lookup_domain(conn, uri, domain, &d, err, errlen);
        if (r < 0)
                return r;
        int active = sym_virDomainIsActive(d), persistent = sym_virDomainIsPersistent(d);
        if (!live && !config) { /* libvirt's "current": the running domain, else its definition */
                live = active == 1;
                config = active != 1;
        }
        if (live && active != 1) {
                snprintf(err, errlen, "domain %s is not running: --live needs it running", domain);
                return -ESRCH;
        }
        if (config && persistent != 1) {
                snprintf(err, errlen, "domain %s is transient: it has no definition for --config",
                         domain);
                return -EINVAL;
        }
        snprintf(xml, sizeof(xml),
                 "<channel type='unix'><source mode='bind'/>"
                 "<target type='virtio' name='%s'/></channel>",
                 port);
        /* Each side on its own: a domain may hold the channel live but not in its definition. */
        static const struct {
                unsigned flag, xml_flags;
        } sides[] = {{VIR_DOMAIN_AFFECT_LIVE, 0},
                     {VIR_DOMAIN_AFFECT_CONFIG, VIR_DOMAIN_XML_INACTIVE}};
        for (size_t i = 0; i < ARRAY_SIZE(sides); i++) {
                if (!(i == 0 ? live : config))
                        continue;
                r = has_channel(d, sides[i].xml_flags, port);
                if (r < 0)
                        return fail(err, errlen, r, "cannot read the domain's XML");
                if (r > 0)
                        continue;
                if (sym_virDomainAttachDeviceFlags(d, xml, sides[i].flag) < 0) {
                        snprintf(what, sizeof(what), "cannot add the %s channel to %s (%s)", port,
                                 domain, i == 0 ? "live" : "config");
                        return fail(err, errlen, -EIO, what);
                }
                *added |= i == 0 ? VT_HOST_SETUP_LIVE : VT_HOST_SETUP_CONFIG;
        }
        return 0;
}
