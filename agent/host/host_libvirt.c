/* virtune-host's view of libvirt: the running domains, their agent channel's socket, and setup. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include "codec.h"
#include "dl.h"
#include "log.h"
#include "strv.h"
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
static typeof(virConnectIsAlive) *sym_virConnectIsAlive;
static typeof(virConnectRegisterCloseCallback) *sym_virConnectRegisterCloseCallback;
static typeof(virConnectUnregisterCloseCallback) *sym_virConnectUnregisterCloseCallback;
static typeof(virDomainFree) *sym_virDomainFree;
static typeof(virDomainGetName) *sym_virDomainGetName;
static typeof(virDomainGetUUIDString) *sym_virDomainGetUUIDString;
static typeof(virDomainGetUUID) *sym_virDomainGetUUID;
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
        VT_DL_SYM(virSetErrorFunc),
        VT_DL_SYM(virGetLastErrorMessage),
        VT_DL_SYM(virConnectOpen),
        VT_DL_SYM(virConnectOpenReadOnly),
        VT_DL_SYM(virConnectClose),
        VT_DL_SYM(virDomainFree),
        VT_DL_SYM(virDomainGetName),
        VT_DL_SYM(virDomainGetUUIDString),
        VT_DL_SYM(virDomainGetID),
        VT_DL_SYM(virDomainIsActive),
        VT_DL_SYM(virDomainIsPersistent),
        VT_DL_SYM(virDomainGetXMLDesc),
        VT_DL_SYM(virDomainLookupByName),
        VT_DL_SYM(virDomainLookupByUUIDString),
        VT_DL_SYM(virConnectListAllDomains),
        VT_DL_SYM(virDomainAttachDeviceFlags),
        VT_DL_SYM(virConnectIsAlive),
        VT_DL_SYM(virConnectRegisterCloseCallback),
        VT_DL_SYM(virConnectUnregisterCloseCallback),
        VT_DL_SYM(virDomainGetUUID),
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
        int64_t t0 = vt_host_now_us();
        int r = load(err, errlen);
        if (r < 0)
                return r;
        int64_t t1 = vt_host_now_us();
        sym_virSetErrorFunc(NULL, quiet);
        /*
         * libvirt writes to its socket without MSG_NOSIGNAL and asks its users to ignore
         * SIGPIPE (virsh does): a libvirtd that went away would otherwise kill us on the next
         * call instead of failing it (scan --interval reconnects then).
         */
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
                signal(SIGPIPE, SIG_IGN);
        *ret = read_only ? sym_virConnectOpenReadOnly(uri) : sym_virConnectOpen(uri);
        log_debug("libvirt: loaded in %.1f ms, connected to %s in %.1f ms",
                  (double)(t1 - t0) / 1000, uri, (double)(vt_host_now_us() - t1) / 1000);
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

/* A domain with the channel as the last resolve found it: the same UUID and id, the same socket. */
struct known {
        unsigned char uuid[VIR_UUID_BUFLEN];
        unsigned id;
        char *socket;
};

/* The source keeps its connection and what it learnt from one resolve to the next (--interval). */
struct vt_host_libvirt {
        char *uri;
        const char *port;
        virConnectPtr conn;
        bool close_cb;       /* on_close registered on conn */
        bool lost;           /* a connection was lost: say when one is back */
        atomic_int closed;   /* libvirt's close callback ran: 1 + its reason */
        char *dir;           /* libvirt's channel directory, once a domain's XML showed it */
        struct known *known; /* sorted by UUID */
        size_t n_known;
};

static void known_free(struct known *k, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(k[i].socket);
        free(k);
}

static int cmp_known(const void *a, const void *b)
{
        return memcmp(((const struct known *)a)->uuid, ((const struct known *)b)->uuid,
                      VIR_UUID_BUFLEN);
}

/* known (n of them) sorted by UUID for known_find(), in place of what lv knew. */
static void known_install(struct vt_host_libvirt *lv, struct known *known, size_t n)
{
        if (n > 1)
                qsort(known, n, sizeof(*known), cmp_known);
        known_free(lv->known, lv->n_known);
        lv->known = known;
        lv->n_known = n;
}

/* Runs in whichever thread's call found the connection closed (no event loop here). */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
        struct vt_host_libvirt *lv = opaque;
        (void)conn;
        atomic_store(&lv->closed, 1 + reason);
}

static void lv_disconnect(struct vt_host_libvirt *lv)
{
        if (!lv->conn)
                return;
        /* a registered callback holds a reference: the connection would never be freed */
        if (lv->close_cb)
                sym_virConnectUnregisterCloseCallback(lv->conn, on_close);
        sym_virConnectClose(lv->conn);
        lv->conn = NULL;
        lv->close_cb = false;
        atomic_store(&lv->closed, 0);
}

/*
 * The connection, opened once and kept: a closed one (libvirtd restarted, the socket dropped:
 * the close callback or virConnectIsAlive says) is replaced, with a message either way.
 */
static int lv_connect(struct vt_host_libvirt *lv, char *err, size_t errlen)
{
        static const char *const reasons[] = {
                [VIR_CONNECT_CLOSE_REASON_ERROR] = "an error",
                [VIR_CONNECT_CLOSE_REASON_EOF] = "libvirtd closed it",
                [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "no keepalive answer",
                [VIR_CONNECT_CLOSE_REASON_CLIENT] = "closed here",
        };
        int closed = atomic_load(&lv->closed);
        if (lv->conn && !closed && sym_virConnectIsAlive(lv->conn) == 1)
                return 0;
        if (lv->conn) {
                log_warning("libvirt: the connection to %s was lost (%s); reconnecting", lv->uri,
                            closed > 0 && (size_t)closed <= ARRAY_SIZE(reasons)
                                    ? reasons[closed - 1]
                                    : "it is not alive");
                lv_disconnect(lv);
                lv->lost = true;
        }
        int r = connect_uri(lv->uri, true, &lv->conn, err, errlen);
        if (r < 0)
                return r;
        lv->close_cb = sym_virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL) == 0;
        if (lv->lost)
                log_notice("libvirt: connected to %s again", lv->uri);
        lv->lost = false;
        return 0;
}

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

/* A running domain whose channel is at path: no XML (name and UUID are local to the listing). */
static int target_at(virDomainPtr d, const char *path, struct vt_host_target *t, char *err,
                     size_t errlen)
{
        char uuid[VIR_UUID_STRING_BUFLEN];
        const char *name = sym_virDomainGetName(d);
        *t = (struct vt_host_target){.running = true};
        if (!name || sym_virDomainGetUUIDString(d, uuid) < 0)
                return fail(err, errlen, -EIO, "cannot read a domain's name and UUID");
        if (!(t->domain = strdup(name)) || !(t->uuid = strdup(uuid)) || !(t->socket = strdup(path)))
                return -ENOMEM;
        return 0;
}

/*
 * One running domain. With *dir (libvirt's channel directory, learnt from an earlier domain's
 * XML) and a socket at the conventional path, that is the channel: no XML. Otherwise the live
 * XML says, and a path of the conventional form teaches *dir.
 */
static int domain_target(struct vt_host_libvirt *lv, virDomainPtr d, struct vt_host_target *t,
                         size_t *xml_reads, char *err, size_t errlen)
{
        char **dir = &lv->dir;
        char tail[PATH_MAX], path[PATH_MAX];
        bool conventional = conventional_tail(d, lv->port, tail, sizeof(tail)) == 0;
        if (conventional && *dir &&
            snprintf(path, sizeof(path), "%s%s", *dir, tail) < (int)sizeof(path) &&
            vt_host_is_socket(path))
                return target_at(d, path, t, err, errlen);
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

/*
 * The domain as the last resolve found it, if it has the same id (not restarted since) and its
 * socket is still there: no XML read. Domains without the channel are never known, so a
 * channel hot-plugged into one (setup --live) is seen on the next resolve.
 */
static const struct known *known_find(const struct vt_host_libvirt *lv, virDomainPtr d,
                                      struct known *key)
{
        if (!lv->n_known || sym_virDomainGetUUID(d, key->uuid) < 0)
                return NULL;
        const struct known *k = bsearch(key, lv->known, lv->n_known, sizeof(*key), cmp_known);
        return k && k->id == sym_virDomainGetID(d) && vt_host_is_socket(k->socket) ? k : NULL;
}

/* What the next resolve may take as it is: t's socket for d, under its UUID and id. */
static int known_add(virDomainPtr d, const struct vt_host_target *t, struct known **v, size_t *n)
{
        struct known k = {.id = sym_virDomainGetID(d)};
        if (!t->socket || k.id == (unsigned)-1 || sym_virDomainGetUUID(d, k.uuid) < 0)
                return 0;
        struct known *nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(k.socket = strdup(t->socket)))
                return -ENOMEM;
        nv[(*n)++] = k;
        return 0;
}

static int libvirt_resolve(void *userdata, struct vt_host_targets *t, char *err, size_t errlen)
{
        struct vt_host_libvirt *lv = userdata;
        virDomainPtr *doms = NULL;
        struct known *known = NULL;
        size_t xml_reads = 0, n_known = 0, reused = 0;
        int64_t t0 = vt_host_now_us();
        int r = lv_connect(lv, err, errlen);
        if (r < 0)
                return r;
        int n = sym_virConnectListAllDomains(lv->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0 && lv_connect(lv, err, errlen) == 0) /* lost since the last resolve: again */
                n = sym_virConnectListAllDomains(lv->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0)
                return fail(err, errlen, -EIO, "cannot list the domains");
        log_debug("libvirt: %d domains listed after %.1f ms", n,
                  (double)(vt_host_now_us() - t0) / 1000);
        if (n > 1) /* libvirt lists in no particular order; the name is local, no call */
                qsort(doms, (size_t)n, sizeof(*doms), cmp_dom);
        for (int i = 0; i < n; i++) {
                struct vt_host_target one = {};
                struct known key;
                const struct known *k = r >= 0 ? known_find(lv, doms[i], &key) : NULL;
                if (k) {
                        reused++;
                        r = target_at(doms[i], k->socket, &one, err, errlen);
                } else if (r >= 0)
                        r = domain_target(lv, doms[i], &one, &xml_reads, err, errlen);
                if (r >= 0)
                        r = vt_host_targets_add(t, one.socket, one.domain, one.uuid, one.running);
                if (r >= 0 && one.running)
                        r = known_add(doms[i], &one, &known, &n_known);
                free(one.socket), free(one.domain), free(one.uuid);
                sym_virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0) {
                known_free(known, n_known);
                return r;
        }
        known_install(lv, known, n_known);
        /* bench/libvirt-scan reads this line. */
        log_info(
                "libvirt: %d running domains at %s in %.1f ms, %zu XML reads, %zu as the last time",
                n, lv->uri, (double)(vt_host_now_us() - t0) / 1000, xml_reads, reused);
        return 0;
}

void vt_host_libvirt_close(struct vt_host_libvirt *lv)
{
        if (!lv)
                return;
        if (lv->conn)
                lv_disconnect(lv);
        known_free(lv->known, lv->n_known);
        free(lv->dir);
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

#define KNOWN_MAGIC "virtune-host scan cache 2"

int vt_host_libvirt_save(const struct vt_host_libvirt *lv, char **text)
{
        size_t len = 0;
        *text = NULL;
        FILE *f = open_memstream(text, &len);
        if (!f)
                return -errno;
        fputs(KNOWN_MAGIC "\n", f);
        if (lv->dir && !strchr(lv->dir, '\n'))
                fprintf(f, "dir %s\n", lv->dir);
        for (size_t i = 0; i < lv->n_known; i++) {
                const struct known *k = &lv->known[i];
                _cleanup_free_ char *hex = vt_hex_encode(k->uuid, sizeof(k->uuid));
                if (hex && !strchr(k->socket, '\n'))
                        fprintf(f, "%s %u %s\n", hex, k->id, k->socket);
        }
        if (fclose(f) != 0) {
                free(*text);
                *text = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vt_host_libvirt_restore(struct vt_host_libvirt *lv, const char *text, char ***sockets)
{
        _cleanup_strv_ char **lines = NULL;
        struct known *known = NULL;
        size_t n = 0;
        int r = 0;
        *sockets = NULL;
        if (!text || vt_strv_split(text, "\n", &lines) < 0 || !lines || !lines[0] ||
            !streq(lines[0], KNOWN_MAGIC))
                return 0; /* none, or another version's: only a slower start */
        for (char **l = lines + 1; r >= 0 && *l; l++) {
                char hex[2 * VIR_UUID_BUFLEN + 1];
                _cleanup_free_ uint8_t *uuid = NULL;
                size_t ulen;
                unsigned id;
                int off = 0;
                if (startswith(*l, "dir ")) {
                        if (!lv->dir && !(lv->dir = strdup(*l + 4)))
                                r = -ENOMEM;
                        continue;
                }
                if (sscanf(*l, "%32[0-9a-f] %u %n", hex, &id, &off) != 2 || !off ||
                    (*l)[off] != '/' || vt_hex_decode(hex, &uuid, &ulen) < 0 ||
                    ulen != VIR_UUID_BUFLEN)
                        continue;
                struct known *nv = realloc(known, (n + 1) * sizeof(*known));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                known = nv;
                nv[n] = (struct known){.id = id, .socket = strdup(*l + off)};
                memcpy(nv[n].uuid, uuid, VIR_UUID_BUFLEN);
                if (!nv[n++].socket || vt_strv_add(sockets, *l + off) < 0)
                        r = -ENOMEM;
        }
        if (r < 0) {
                known_free(known, n);
                vt_strv_free(*sockets);
                *sockets = NULL;
                return r;
        }
        known_install(lv, known, n);
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
