/* virtune-host: the host-side client of a guest's virtune agent, over the channel's socket. */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include "render.h"
#include "host.h"
#include "host_attest.h"
#include "host_eventlog.h"
#include "host_fleet.h"
#include "host_table.h"
#include "host_verify.h"
#include "strv.h"
#include "codec.h"
#include "ctx.h"
#include "fsutil.h"
#include "log.h"
#include "version.h"

#define NONCE_LEN 32

struct host {
        const char *socket;
        const char *uri, *domain; /* -c, -d: the socket comes from libvirt */
        const char *label;        /* what messages call the guest: its domain or socket */
        char *socket_owned;
        int (*table_fn)(FILE *out, json_object *value);
        int (*text_fn)(FILE *out, json_object *value);
        int timeout_ms;
        int interval_ms; /* scan --interval: a round every so often, 0: one scan */
        unsigned count;  /* scan --count: that many rounds, 0: until SIGTERM/SIGINT */
        bool json, table;
        /* command options */
        const char *nonce_hex, *output, *ak, *name, *pcrs, *prom_file;
        bool random, dry_run, prometheus, ima, from_files, live, config, attest;
        char **files; /* verify --from-files: QUOTE [EVENTLOG]; scan: DIR... */
        char **ek_ca; /* attest: --ek-ca FILE..., else this host's swtpm-localca */
        const char *state_dir, *guest_id, *record, *reference;
        char *uuid; /* -d: the domain's UUID, the attest state's key */
        bool tofu, reactivate;
        size_t nfiles;
        unsigned used; /* which command options were given (bit per option) */
};

struct host_cmd {
        const char *name;
        const char *execute; /* the channel command, NULL for the special ones */
        int (*run)(struct host *h, const struct host_cmd *cmd);
        unsigned options; /* allowed command options */
        const char *summary;
        int (*table)(FILE *out, json_object *value); /* for people, on a terminal or --table */
        int (*text)(FILE *out, json_object *value);  /* a fixed text layout, unless --json */
};

enum {
        OPT_NONCE = 1u << 0,
        OPT_RANDOM = 1u << 1,
        OPT_OUTPUT = 1u << 2,
        OPT_AK = 1u << 3,
        OPT_DRY_RUN = 1u << 4,
        OPT_PROMETHEUS = 1u << 5,
        OPT_NAME = 1u << 6,
        OPT_IMA = 1u << 7,
        OPT_PCRS = 1u << 8,
        OPT_FROM_FILES = 1u << 9,
        OPT_PROM_FILE = 1u << 10,
        OPT_TABLE = 1u << 11,
        OPT_LIVE = 1u << 12,
        OPT_CONFIG = 1u << 13,
        /* --ek-ca --tofu --reactivate --state --guest-id --record --reference --attest */
        OPT_ATTEST = 1u << 14,
        OPT_INTERVAL = 1u << 15, /* --interval --count */
};

#define ATTEST_STATE_DIR "/var/lib/virtune-host/attest"

/* SEC seconds (fractions too) between min and max, as milliseconds. */
static int parse_seconds(const char *opt, const char *arg, double min, double max, int *ms)
{
        char *end;
        double s = strtod(arg, &end);
        /* NaN fails every comparison: ask for what is wanted, not against it */
        if (end == arg || *end || !isfinite(s) || !(s >= min && s <= max)) {
                log_error("%s takes seconds (%g-%g), not '%s'", opt, min, max, arg);
                return -EINVAL;
        }
        *ms = (int)(s * 1000);
        return 0;
}

static int exit_for(int r, const struct host *h)
{
        if (r == -ETIMEDOUT)
                log_error("No answer from the agent on %s within %d ms", h->label, h->timeout_ms);
        else if (r == -E2BIG || r == -EMSGSIZE) {
                log_error("The agent on %s sent a reply %s: refused", h->label,
                          r == -E2BIG ? "of more elements than virtune-host parses"
                                      : "larger than virtune-host reads");
                return VT_HOST_EXIT_GUEST_ERROR;
        } else
                log_error_errno(r, "Cannot talk to the agent on %s", h->label);
        return VT_HOST_EXIT_NO_AGENT;
}

/*
 * Runs one channel command; *value is the "return" value (a new reference). quiet: a guest
 * error is the caller's to report (nothing printed: --json output stays one document).
 */
static int call_ex(struct host *h, const char *execute, json_object *args, json_object **value,
                   bool quiet)
{
        struct vt_host_conn c;
        _cleanup_json_ json_object *reply = NULL;
        json_object *v;
        const char *class, *desc;

        int r = vt_host_conn_open(&c, h->socket, h->timeout_ms);
        if (r >= 0)
                r = vt_host_conn_call(&c, execute, args, &reply);
        else
                json_object_put(args);
        vt_host_conn_close(&c);
        if (r < 0)
                return exit_for(r, h);
        if (vt_host_reply_value(reply, &v, &class, &desc) < 0) {
                if (quiet)
                        return VT_HOST_EXIT_GUEST_ERROR;
                if (h->json)
                        printf("%s\n", json_object_to_json_string_ext(
                                               reply, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
                log_error("%s: %s: %s", execute, class, desc);
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        *value = json_object_get(v);
        return 0;
}

static int call(struct host *h, const char *execute, json_object *args, json_object **value)
{
        return call_ex(h, execute, args, value, false);
}

static void print(const struct host *h, json_object *value)
{
        if (h->table_fn && (h->table || (!h->json && isatty(STDOUT_FILENO))) &&
            h->table_fn(stdout, value) >= 0)
                return;
        if (!h->json && h->text_fn && h->text_fn(stdout, value) >= 0)
                return;
        if (h->json)
                printf("%s\n",
                       json_object_to_json_string_ext(
                               value, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else
                vt_render_text(stdout, value);
}

/* The command's channel call, with {"dry-run": true} when --dry-run was given; prints it. */
static int call_print(struct host *h, const struct host_cmd *cmd, json_object **value)
{
        json_object *args = NULL;
        if (h->dry_run) {
                args = json_object_new_object();
                json_object_object_add(args, "dry-run", json_object_new_boolean(true));
        }
        int r = call(h, cmd->execute, args, value);
        if (r == 0)
                print(h, *value);
        return r;
}

static int run_simple(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        int r = call_print(h, cmd, &value);
        return r != 0 ? r : VT_HOST_EXIT_OK;
}

/* What the guest's apply or revert entry says when it did what was asked. */
static const char *const tune_done[] = {"applied", "no-op", "dry-run", "reverted",
                                        "nothing-to-revert"};

/*
 * apply and revert: the guest answers with its journal entry even when it changed nothing
 * (rolled back, refused by its apply unit): exit 1 then, saying why.
 */
static int run_tune(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        json_object *v, *changes;
        int r = call_print(h, cmd, &value);
        if (r != 0)
                return r;
        const char *status =
                json_object_object_get_ex(value, "status", &v) ? json_object_get_string(v) : NULL;
        for (size_t i = 0; status && i < ARRAY_SIZE(tune_done); i++)
                if (streq(status, tune_done[i]))
                        return VT_HOST_EXIT_OK;
        /* the change that failed says more than the entry's errno text */
        const char *target = NULL, *why = NULL;
        if (json_object_object_get_ex(value, "changes", &changes))
                for (size_t i = 0; !why && i < json_object_array_length(changes); i++) {
                        json_object *c = json_object_array_get_idx(changes, i), *e, *t;
                        if (json_object_object_get_ex(c, "error", &e) &&
                            json_object_object_get_ex(c, "target", &t)) {
                                why = json_object_get_string(e);
                                target = json_object_get_string(t);
                        }
                }
        if (!why && json_object_object_get_ex(value, "error", &v))
                why = json_object_get_string(v);
        _cleanup_free_ char *esc_status = vt_escape_ctl(status ? status : "(none)");
        _cleanup_free_ char *esc_target = target ? vt_escape_ctl(target) : NULL;
        _cleanup_free_ char *esc_why = vt_escape_ctl(why ? why : "no reason given");
        log_error("%s: the guest did not %s (status %s): %s%s%s", cmd->name, cmd->name,
                  esc_status ? esc_status : "?", esc_target ? esc_target : "",
                  esc_target ? ": " : "", esc_why ? esc_why : "?");
        return VT_HOST_EXIT_GUEST_ERROR;
}

static int run_ping(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        int64_t t0 = vt_host_now_ms();
        int r = call(h, "guest-ping", NULL, &value);
        if (r != 0)
                return r;
        if (h->json)
                print(h, value);
        else
                printf("The agent on %s answered (%" PRId64 " ms with the sync)\n", h->label,
                       vt_host_now_ms() - t0);
        return VT_HOST_EXIT_OK;
}

/* The nonce: --nonce HEX, else random (--random, or verify's default). */
static int nonce_get(const struct host *h, uint8_t **nonce, size_t *len)
{
        if (h->nonce_hex) {
                if (vt_hex_decode(h->nonce_hex, nonce, len) < 0 || *len < 16 || *len > 64) {
                        log_error("--nonce takes 16-64 bytes in hex");
                        return -EINVAL;
                }
                return 0;
        }
        *nonce = malloc(NONCE_LEN);
        if (!*nonce)
                return -ENOMEM;
        *len = NONCE_LEN;
        return vt_host_random(*nonce, NONCE_LEN);
}

static int quote(struct host *h, const uint8_t *nonce, size_t len, json_object **value)
{
        _cleanup_free_ char *hex = vt_hex_encode(nonce, len);
        json_object *args = json_object_new_object();
        if (!hex || !args) {
                json_object_put(args);
                return log_error_errno(-ENOMEM, "quote"), VT_HOST_EXIT_GUEST_ERROR;
        }
        json_object_object_add(args, "nonce", json_object_new_string(hex));
        if (h->pcrs)
                json_object_object_add(args, "pcrs", json_object_new_string(h->pcrs));
        return call(h, "virtune-quote", args, value);
}

static int run_quote(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_free_ uint8_t *nonce = NULL;
        _cleanup_json_ json_object *value = NULL;
        size_t len;
        if (!h->nonce_hex && !h->random) {
                log_error("quote: give --nonce HEX or --random");
                return VT_HOST_EXIT_USAGE;
        }
        if (nonce_get(h, &nonce, &len) < 0)
                return VT_HOST_EXIT_USAGE;
        int r = quote(h, nonce, len, &value);
        if (r != 0)
                return r;
        print(h, value);
        return VT_HOST_EXIT_OK;
}

/* call_ex as a vt_attest_call_fn: rc keeps the exit code of the call that failed. */
struct host_call {
        struct host *h;
        bool quiet;
        int rc;
};

static int host_call_fn(void *userdata, const char *execute, json_object *args, json_object **value)
{
        struct host_call *c = userdata;
        c->rc = call_ex(c->h, execute, args, value, c->quiet);
        return c->rc ? -EREMOTEIO : 0;
}

/* The whole event log, in as many calls as the guest's pieces take; 0 or an exit code. */
static int eventlog_fetch(struct host *h, bool ima, bool quiet, json_object **value)
{
        struct host_call c = {h, quiet, 0};
        char err[512];
        int r = vt_host_eventlog_fetch(host_call_fn, &c, ima, value, err, sizeof(err));
        if (r >= 0)
                return 0;
        if (c.rc)
                return c.rc; /* the guest's error (said unless quiet), or no agent */
        log_error("eventlog: %s", err[0] ? err : strerror(-r)); /* the pieces did not fit */
        return VT_HOST_EXIT_GUEST_ERROR;
}

static int run_eventlog(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        _cleanup_free_ uint8_t *log = NULL;
        json_object *b64;
        size_t len;

        int r = eventlog_fetch(h, h->ima, false, &value);
        if (r != 0)
                return r;
        if (!h->output) {
                print(h, value);
                return VT_HOST_EXIT_OK;
        }
        if (!json_object_object_get_ex(value, "log", &b64) ||
            vt_base64_decode(json_object_get_string(b64), &log, &len) < 0) {
                log_error("eventlog: the guest's reply has no base64 'log'");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        _cleanup_fclose_ FILE *f = fopen(h->output, "we");
        if (!f || fwrite(log, 1, len, f) != len || fflush(f) != 0) {
                log_error_errno(-errno, "Cannot write %s", h->output);
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        if (!h->json)
                printf("Wrote %zu bytes of event log to %s\n", len, h->output);
        return VT_HOST_EXIT_OK;
}

static int run_verify(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_free_ uint8_t *nonce = NULL;
        _cleanup_json_ json_object *q = NULL, *ev = NULL, *report = NULL;
        json_object *ok;
        size_t len;
        int r;

        if (h->from_files && !h->nonce_hex) {
                log_error("verify --from-files: give the nonce the quote was made over (--nonce)");
                return VT_HOST_EXIT_USAGE;
        }
        if (nonce_get(h, &nonce, &len) < 0)
                return VT_HOST_EXIT_USAGE;
        if (h->from_files) {
                const char *bad;
                r = vt_host_verify_load(h->files[0], h->nfiles > 1 ? h->files[1] : NULL, &q, &ev,
                                        &bad);
                if (r < 0 && r != -EOPNOTSUPP) {
                        if (r == -EBADMSG)
                                log_error("verify: %s is not a saved quote or event log", bad);
                        else
                                log_error_errno(r, "verify: cannot read %s", bad);
                        return VT_HOST_EXIT_GUEST_ERROR;
                }
        } else {
                r = quote(h, nonce, len, &q);
                if (r != 0)
                        return r;
                /* No event log is a finding for the verifier, not a reason to stop here. */
                if (eventlog_fetch(h, false, true, &ev) != 0)
                        ev = NULL;
        }
        if (r >= 0)
                r = vt_host_verify_sel(q, nonce, len, h->pcrs, ev, h->ak, &report);
        if (r == -EOPNOTSUPP) {
                log_error("verify: quote verification is not available in this build");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        if (r < 0) {
                log_error_errno(r, "verify");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        print(h, report);
        return json_object_object_get_ex(report, "ok", &ok) && json_object_get_boolean(ok)
                       ? VT_HOST_EXIT_OK
                       : VT_HOST_EXIT_GUEST_ERROR;
}

static int load_json(const char *path, json_object **ret)
{
        json_object *o = json_object_from_file(path);
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                log_error("Cannot read %s as a JSON object (a file written by attest --record)",
                          path);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

/* What attest and scan --attest share: trust anchors, the state directory, the reference. */
struct attest_setup {
        char **default_cas;
        json_object *reference;
        char state[PATH_MAX];
        struct vt_attest_opts o;
};

static void attest_setup_done(struct attest_setup *a)
{
        vt_strv_free(a->default_cas);
        json_object_put(a->reference);
}

static int attest_setup(struct host *h, struct attest_setup *a)
{
        *a = (struct attest_setup){0};
        if (!h->ek_ca)
                a->default_cas = vt_attest_default_cas();
        char **cas = h->ek_ca ? h->ek_ca : a->default_cas;
        if (h->reference && load_json(h->reference, &a->reference) < 0)
                return VT_HOST_EXIT_USAGE;
        const char *dir = h->state_dir ? h->state_dir : ATTEST_STATE_DIR;
        if (!realpath(dir, a->state)) {
                if (errno != ENOENT || strlen(dir) >= sizeof(a->state) || dir[0] != '/') {
                        log_error_errno(-errno, "attest: the state directory %s", dir);
                        return VT_HOST_EXIT_USAGE;
                }
                snprintf(a->state, sizeof(a->state), "%s", dir); /* made on first use */
        }
        a->o = (struct vt_attest_opts){
                .ek_ca = cas,
                .n_ek_ca = vt_strv_len(cas),
                .tofu = h->tofu,
                .reactivate = h->reactivate,
                .state_dir = a->state,
                .guest_id = h->guest_id ? h->guest_id
                            : h->uuid   ? h->uuid
                                        : h->socket,
                .pcrs = h->pcrs,
                .reference = a->reference,
                .record = h->record != NULL,
        };
        return 0;
}

static int run_attest(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_(attest_setup_done) struct attest_setup as = {0};
        _cleanup_json_ json_object *report = NULL;
        int e = attest_setup(h, &as);
        if (e != 0)
                return e;
        struct vt_attest_opts o = as.o;
        struct vt_host_caller c = {.socket = h->socket, .timeout_ms = h->timeout_ms};
        int r = vt_attest_run(&o, vt_host_caller_call, &c, &report);
        vt_host_caller_close(&c);
        if (r < 0) {
                log_error_errno(r, "attest");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        json_object *ref = json_object_object_get(report, "reference");
        if (h->record && ref) {
                const char *text = json_object_to_json_string_ext(
                        ref, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
                _cleanup_fclose_ FILE *f = fopen(h->record, "we");
                if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fflush(f) != 0) {
                        log_error_errno(-errno, "attest --record: cannot write %s", h->record);
                        return VT_HOST_EXIT_GUEST_ERROR;
                }
                json_object_object_del(report, "reference");
                vt_json_add_str(report, "recorded", h->record);
        } else if (h->record) {
                log_error("attest --record: %s not written: the attestation failed", h->record);
        }
        print(h, report);
        json_object *ok;
        return json_object_object_get_ex(report, "ok", &ok) && json_object_get_boolean(ok)
                       ? VT_HOST_EXIT_OK
                       : VT_HOST_EXIT_GUEST_ERROR;
}

static int libvirt_error(int r, const char *uri, const char *err)
{
        log_error("%s", err);
        if (r == -ENOENT)
                return VT_HOST_EXIT_USAGE;
        if (r == -ENOTCONN && geteuid() != 0)
                log_error("(as a user: the group 'libvirt' may connect to %s, or use "
                          "qemu:///session)",
                          uri);
        return r == -ESRCH ? VT_HOST_EXIT_NO_AGENT : VT_HOST_EXIT_HOST;
}

/* A scan directory that cannot be read: say which, and what to do about it. */
static int dir_error(int r, const char *dir)
{
        if (r == -ENOENT || r == -ENOTDIR) {
                log_error("scan: %s: no such directory", dir);
                return VT_HOST_EXIT_USAGE;
        }
        if (r == -EACCES || r == -EPERM) {
                struct stat st;
                struct group *gr = stat(dir, &st) == 0 ? getgrgid(st.st_gid) : NULL;
                log_error("scan: %s: permission denied; join the group '%s' that owns it "
                          "(libvirt: libvirt-qemu), or run as root",
                          dir, gr ? gr->gr_name : "libvirt-qemu");
                return VT_HOST_EXIT_HOST;
        }
        log_error_errno(r, "scan: cannot read %s", dir);
        return VT_HOST_EXIT_HOST;
}

/* The exposition into path, atomically (a temp file beside it, renamed): node_exporter never
 * reads half a file. */
static int write_atomic(const char *path, const char *data, size_t len)
{
        _cleanup_free_ char *abs = NULL;
        struct vt_ctx root = {.root_fd = -1};
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
                        return -ENOMEM;
        }
        int r = vt_ctx_init_root(&root, "/");
        if (r >= 0)
                r = vt_fs_write_atomic(&root, abs ? abs : path, data, len, 0644);
        vt_ctx_fini_root(&root);
        return r;
}

/*
 * scan --attest: every guest of the source (libvirt's running domains, or the sockets under
 * DIR...) attested at once, each with its own nonce; out gets JSON lines or the exposition.
 * Returns how many passed (of *total with a channel), or -errno.
 */
static int scan_attest(struct host *h, const struct vt_scan_source *src,
                       struct vt_host_targets *all, FILE *out, size_t *total, char *err,
                       size_t errlen)
{
        _cleanup_(attest_setup_done) struct attest_setup as = {0};
        struct vt_host_targets t = {};
        if (h->record || h->reference || h->guest_id) {
                log_error("scan --attest: --record, --reference and --guest-id are for one guest");
                return -EINVAL;
        }
        if (attest_setup(h, &as) != 0)
                return -EINVAL;
        int r = src->resolve ? src->resolve(src->userdata, all, err, errlen) : 0;
        for (size_t i = 0; r >= 0 && i < all->n; i++) {
                const struct vt_host_target *g = &all->v[i];
                if (g->socket)
                        r = vt_host_targets_add(&t, g->socket, g->domain, g->uuid, g->running);
                else
                        log_info("scan --attest: %s has no %s channel", g->domain ? g->domain : "?",
                                 VT_HOST_PORT_NAME);
        }
        struct vt_fleet_target *ft = r >= 0 ? calloc(t.n ? t.n : 1, sizeof(*ft)) : NULL;
        if (r >= 0 && !ft)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < t.n; i++)
                ft[i] = (struct vt_fleet_target){t.v[i].socket, t.v[i].domain, t.v[i].uuid};
        if (r >= 0)
                r = vt_attest_fleet(ft, t.n, &as.o, h->timeout_ms, h->prometheus || h->prom_file,
                                    out);
        *total = t.n;
        free(ft);
        vt_host_targets_done(&t);
        return r;
}

/*
 * What the last libvirt scan of a URI learnt (vt_host_libvirt_save: each domain's UUID, id and
 * socket), kept for the next one: $XDG_RUNTIME_DIR/virtune-host/scan-HASH (FNV-1a of the URI and
 * the port). Its sockets are asked while libvirt loads, connects and lists, and a domain with
 * the same UUID and id has its XML not read again. Only a head start: the labels come from
 * libvirt, and a socket it does not confirm is dropped unreported. Without XDG_RUNTIME_DIR
 * there is none.
 */
static int cache_path(const char *uri, const char *port, bool make_dir, char *buf, size_t len)
{
        const char *rt = getenv("XDG_RUNTIME_DIR");
        uint64_t hash = 0xcbf29ce484222325ull;
        if (!rt || rt[0] != '/')
                return -ENOENT;
        for (const char *c = uri; *c; c++)
                hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
        hash = (hash ^ '\n') * 0x100000001b3ull;
        for (const char *c = port; *c; c++)
                hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
        int n = snprintf(buf, len, "%s/virtune-host", rt);
        if (n < 0 || (size_t)n >= len)
                return -ENAMETOOLONG;
        if (make_dir && mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
        n = snprintf(buf, len, "%s/virtune-host/scan-%016" PRIx64, rt, hash);
        return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* The cache file as read (cache_write compares), NULL without one. */
static char *cache_read(const char *uri, const char *port)
{
        char path[PATH_MAX];
        struct vt_ctx root = {.root_fd = -1};
        char *data = NULL;
        size_t len;
        if (cache_path(uri, port, false, path, sizeof(path)) < 0 ||
            vt_ctx_init_root(&root, "/") < 0)
                return NULL;
        if (vt_read_file_max(&root, path, 4u << 20, &data, &len) < 0)
                data = NULL;
        vt_ctx_fini_root(&root);
        return data;
}

/*
 * Written only when it changed, without fsync: temp file, rename. A cache lost in a crash only
 * costs the next scan its head start (and XDG_RUNTIME_DIR is a tmpfs).
 */
static void cache_write(const char *uri, const char *port, const struct vt_host_libvirt *lv,
                        const char *old)
{
        char path[PATH_MAX], tmp[PATH_MAX + 32];
        _cleanup_free_ char *buf = NULL;
        if (vt_host_libvirt_save(lv, &buf) < 0 || (old && streq(old, buf)) ||
            cache_path(uri, port, true, path, sizeof(path)) < 0)
                return;
        size_t len = strlen(buf);
        snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len || rename(tmp, path) < 0) {
                log_debug("scan: cannot write %s: %m (the next scan only starts later)", path);
                unlink(tmp);
        }
}

/* What a scan keeps from one round to the next (--interval): the source and its connection. */
struct scan_state {
        const char *port;
        bool libvirt;
        struct vt_host_libvirt *lv;
        struct vt_scan_source src;
        struct vt_scan_opts so;
};

/*
 * One scan: the targets, every guest asked, the output (stdout, or --prometheus-file written
 * atomically). An exit code, said once here; -ECANCELED when stopped by a signal (nothing
 * written). cache: ask the last scan's sockets first (one-shot scans through libvirt).
 */
static int scan_round(struct host *h, struct scan_state *s, bool cache)
{
        struct vt_host_targets t = {};
        _cleanup_strv_ char **last = NULL;
        _cleanup_free_ char *cached = NULL, *buf = NULL;
        const char *bad = NULL;
        char err[512] = "";
        size_t len = 0, attested = 0;
        int r;

        if (s->libvirt && cache) {
                cached = cache_read(h->uri, s->port);
                if (vt_host_libvirt_restore(s->lv, cached, &last) < 0)
                        return log_error("scan: out of memory"), VT_HOST_EXIT_HOST;
                s->src.prestart = last;
                s->src.n_prestart = vt_strv_len(last);
        } else if (!s->libvirt) {
                int64_t t0 = vt_host_now_us();
                r = vt_host_targets_from_dirs(h->files, h->nfiles, s->port, &t, &bad);
                if (r < 0) {
                        vt_host_targets_done(&t);
                        return dir_error(r, bad);
                }
                /* bench/libvirt-scan sets this against libvirt's line */
                log_info("scan: %zu sockets under the directories in %.1f ms", t.n,
                         (double)(vt_host_now_us() - t0) / 1000);
        }
        FILE *out = h->prom_file ? open_memstream(&buf, &len) : stdout;
        if (!out)
                r = -errno;
        else if (h->attest)
                r = scan_attest(h, &s->src, &t, out, &attested, err, sizeof(err));
        else
                r = vt_host_scan(&s->src, &s->so, &t, out, err, sizeof(err));
        s->src.prestart = NULL;
        s->src.n_prestart = 0;
        if (s->libvirt && cache && r >= 0)
                cache_write(h->uri, s->port, s->lv, cached);
        vt_host_targets_done(&t);
        if (h->prom_file && out && fclose(out) != 0 && r >= 0)
                r = -errno;
        if (r == -ECANCELED)
                return r;
        if (r < 0 && err[0])
                return libvirt_error(r, h->uri, err);
        if (r < 0)
                return log_error_errno(r, "scan"), VT_HOST_EXIT_HOST;
        if (h->prom_file && (r = write_atomic(h->prom_file, buf, len)) < 0) {
                log_error_errno(r,
                                "scan: cannot write %s (its directory must exist and be "
                                "writable)",
                                h->prom_file);
                return VT_HOST_EXIT_HOST;
        }
        if (h->attest && (size_t)r != attested)
                return VT_HOST_EXIT_GUEST_ERROR; /* a guest failed its attestation */
        return VT_HOST_EXIT_OK;
}

/*
 * scan --interval: a round every interval (from the start of one to the start of the next; one
 * that overruns is followed at once), the source's connection kept between them. SIGTERM and
 * SIGINT, blocked and read from a signalfd, end it between two rounds or in one (the guests'
 * answers are not waited for, the file not written): exit 0. The first round's error ends it
 * with that round's exit code (a wrong URI, DIR or file fails at start); a later round's is
 * said and the next round tries again (libvirtd restarting, a directory gone for a while).
 */
static int scan_loop(struct host *h, struct scan_state *s)
{
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        /* before libvirt starts any thread: they inherit the mask, so none takes the signal */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "scan: sigprocmask"), VT_HOST_EXIT_HOST;
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sfd >= 0 && sfd <= STDERR_FILENO) { /* stop_fd > 0; and not where stdio belongs */
                int d = fcntl(sfd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
                close(sfd);
                sfd = d;
        }
        if (sfd < 0)
                return log_error_errno(-errno, "scan: signalfd"), VT_HOST_EXIT_HOST;
        s->so.stop_fd = sfd;
        int64_t next = vt_host_now_us();
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        for (unsigned round = 1;; round++) {
                int64_t t0 = vt_host_now_us();
                int rc = scan_round(h, s, false);
                if (rc == -ECANCELED)
                        break;
                if (rc != VT_HOST_EXIT_OK && round == 1)
                        return rc;
                /* bench/libvirt-scan reads this line */
                log_info("scan: round %u in %.1f ms%s", round,
                         (double)(vt_host_now_us() - t0) / 1000,
                         rc ? " (failed: the next round tries again)" : "");
                if (h->count && round >= h->count)
                        return VT_HOST_EXIT_OK;
                int64_t now = vt_host_now_us();
                next += (int64_t)h->interval_ms * 1000;
                if (next < now)
                        next = now;
                int k;
                while ((k = poll(&p, 1, (int)((next - now + 999) / 1000))) < 0 && errno == EINTR)
                        now = vt_host_now_us();
                if (k != 0)
                        break;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                log_info("scan: %s: stopping", strsignal((int)si.ssi_signo));
        return VT_HOST_EXIT_OK;
}

static int run_scan(struct host *h, const struct host_cmd *cmd)
{
        struct scan_state s = {.port = h->name ? h->name : VT_HOST_PORT_NAME,
                               .libvirt = h->nfiles == 0};
        if (s.libvirt && vt_host_libvirt_source(h->uri, s.port, &s.lv, &s.src) < 0)
                return log_error("scan: out of memory"), VT_HOST_EXIT_HOST;
        s.so = (struct vt_scan_opts){.timeout_ms = h->timeout_ms, .libvirt = s.libvirt};
        s.so.format = h->prometheus || h->prom_file                     ? VT_SCAN_PROMETHEUS
                      : h->table || (!h->json && isatty(STDOUT_FILENO)) ? VT_SCAN_TABLE
                                                                        : VT_SCAN_JSON;
        if (h->prom_file && h->json)
                s.so.json_out = stdout; /* both: JSON lines here, the exposition in the file */
        /* The cache file gives a process that starts for one scan its head start; a loop
         * keeps the connection and what it learnt instead. */
        int r = h->interval_ms ? scan_loop(h, &s) : scan_round(h, &s, !h->attest);
        vt_host_libvirt_close(s.lv);
        return r;
}

static int run_setup(struct host *h, const struct host_cmd *cmd)
{
        char err[512];
        unsigned added;
        const char *port = h->name ? h->name : VT_HOST_PORT_NAME;
        if (!h->domain) {
                log_error("setup: name the domain with -d NAME|UUID");
                return VT_HOST_EXIT_USAGE;
        }
        int r = vt_host_libvirt_setup(h->uri, h->domain, port, h->live, h->config, &added, err,
                                      sizeof(err));
        if (r < 0)
                return libvirt_error(r, h->uri, err);
        if (!added)
                printf("%s already has the %s channel\n", h->domain, port);
        else
                printf("Added the %s channel to %s (%s%s%s)\n", port, h->domain,
                       added & VT_HOST_SETUP_LIVE ? "live" : "",
                       added == (VT_HOST_SETUP_LIVE | VT_HOST_SETUP_CONFIG) ? ", " : "",
                       added & VT_HOST_SETUP_CONFIG ? "definition: from its next start" : "");
        return VT_HOST_EXIT_OK;
}

/* -d NAME|UUID: the domain's channel socket, from its live XML. */
static int resolve_domain(struct host *h)
{
        struct vt_host_targets t = {};
        char err[512];
        int r = vt_host_libvirt_targets(h->uri, h->domain, h->name ? h->name : VT_HOST_PORT_NAME,
                                        &t, err, sizeof(err));
        if (r < 0) {
                vt_host_targets_done(&t);
                return libvirt_error(r, h->uri, err);
        }
        if (!t.v[0].running) {
                log_error("Domain %s is not running", h->domain);
                r = VT_HOST_EXIT_NO_AGENT;
        } else if (!t.v[0].socket) {
                log_error("Domain %s has no %s channel: add it with virtune-host setup -d %s",
                          h->domain, VT_HOST_PORT_NAME, h->domain);
                r = VT_HOST_EXIT_NO_AGENT;
        } else {
                h->socket = h->socket_owned = TAKE_PTR(t.v[0].socket);
                h->uuid = TAKE_PTR(t.v[0].uuid); /* attest keys its state by it */
        }
        vt_host_targets_done(&t);
        return r;
}

static const struct host_cmd commands[] = {
        {"ping", "guest-ping", run_ping, 0, "is the agent there", NULL, NULL},
        {"info", "guest-info", run_simple, 0, "the agent's version and commands", NULL, NULL},
        {"facts", "virtune-facts", run_simple, 0, "what the guest detected", NULL, NULL},
        {"status", "virtune-status", run_simple, OPT_TABLE,
         "policy, last apply, drift, pending reboot", vt_host_table_status, NULL},
        {"plan", "virtune-plan", run_simple, OPT_TABLE, "what apply would change",
         vt_host_table_plan, NULL},
        {"pcrs", "virtune-pcr-read", run_simple, 0, "the guest's TPM PCRs", NULL,
         vt_host_pcrs_text},
        {"quote", NULL, run_quote, OPT_NONCE | OPT_RANDOM | OPT_PCRS, "a TPM quote over a nonce",
         NULL, NULL},
        {"eventlog", NULL, run_eventlog, OPT_OUTPUT | OPT_IMA, "the measured-boot event log", NULL,
         NULL},
        {"verify", NULL, run_verify, OPT_NONCE | OPT_RANDOM | OPT_AK | OPT_PCRS | OPT_FROM_FILES,
         "quote + event log, checked here (or saved: --from-files)", NULL, NULL},
        {"attest", NULL, run_attest, OPT_PCRS | OPT_ATTEST,
         "EK certificate, AK activation, quote, log, counters", NULL, NULL},
        {"apply", "virtune-apply", run_tune, OPT_DRY_RUN,
         "apply the guest's policy (if it allows); 1 when it did not", NULL, NULL},
        {"revert", "virtune-revert", run_tune, OPT_DRY_RUN,
         "undo the guest's applies (if it allows); 1 when it did not", NULL, NULL},
        {"scan", NULL, run_scan,
         OPT_NAME | OPT_PROMETHEUS | OPT_PROM_FILE | OPT_TABLE | OPT_ATTEST | OPT_PCRS |
                 OPT_INTERVAL,
         "every running libvirt domain, or every channel socket under DIR...\n"
         "            (--attest: attest each)",
         NULL, NULL},
        {"setup", NULL, run_setup, OPT_NAME | OPT_LIVE | OPT_CONFIG,
         "add the channel to a libvirt domain (-d)", NULL, NULL},
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: virtune-host (-d DOMAIN | -s PATH) [OPTIONS] COMMAND [ARGS]\n"
                "       virtune-host [-c URI] scan [--attest] [--table|--json|--prometheus|\n"
                "                                   --prometheus-file PATH] [DIR...]\n"
                "       virtune-host [-c URI] scan --interval SEC [--count N] [--json]\n"
                "                                  [--prometheus-file PATH] [DIR...]\n"
                "       virtune-host [-c URI] -d DOMAIN setup [--live] [--config]\n"
                "       virtune-host verify --from-files --nonce HEX [--pcrs SEL] [--ak-pin FILE]\n"
                "                           QUOTE.json [EVENTLOG]\n"
                "Talks to a guest's virtune agent over the virtio-serial channel's socket.\n\n"
                "Options:\n"
                "  -d, --domain NAME   the libvirt domain (name or UUID) whose channel to use\n"
                "  -c, --connect URI   libvirt's URI (default %s)\n"
                "  -s, --socket PATH   the channel's unix socket (QEMU chardev), no libvirt\n"
                "  -t, --timeout SEC   give up after SEC seconds (default 5; apply, revert 300)\n"
                "  -j, --json          print the guest's reply as JSON\n"
                "  -v, --verbose       more log output\n"
                "  -q, --quiet         errors only\n"
                "  -h, --help          this text;  --version  the version\n"
                "Command options:\n"
                "  --nonce HEX | --random   quote/verify: the nonce (16-64 bytes)\n"
                "  --pcrs SEL               quote/verify: PCR selection, e.g. sha256:0-9\n"
                "  --ak-pin FILE            verify: the trusted AK (written on first use)\n"
                "  --from-files             verify: a quote and event log saved earlier\n"
                "  --ek-ca FILE             attest: a CA for EK certificates (repeat; default:\n"
                "                           this host's swtpm-localca certificates)\n"
                "  --tofu                   attest: no trusted EK certificate: pin the EK on\n"
                "                           first use instead (weaker; said in the report)\n"
                "  --reactivate             attest: verify the EK certificate and activate the\n"
                "                           AK even where a recorded binding holds\n"
                "  --state DIR              attest: per-guest EK pins and TPM counters\n"
                "                           (default %s)\n"
                "  --guest-id ID            attest: the guest's key there (default: the socket)\n"
                "  --record FILE            attest: write this boot's reference state\n"
                "  --reference FILE         attest: compare with a recorded reference\n"
                "  --attest                 scan: attest every guest (the attest options apply)\n"
                "  -o, --output FILE        eventlog: write the binary log to FILE\n"
                "  --ima                    eventlog: the IMA runtime log instead\n"
                "  --dry-run                apply, revert: only say what would change\n"
                "  --table                  scan, plan, status: a table (default on a terminal)\n"
                "  --prometheus             scan: text exposition instead of JSON lines\n"
                "  --prometheus-file PATH   scan: write it to PATH atomically (node_exporter);\n"
                "                           with --json, JSON lines to stdout as well\n"
                "  --interval SEC           scan: a round every SEC seconds, libvirt's\n"
                "                           connection kept, until SIGTERM or SIGINT (exit 0)\n"
                "  --count N                scan --interval: stop after N rounds\n"
                "  --live, --config         setup: the running domain, its definition\n"
                "  --name NAME              scan, setup: the port's name (default %s)\n\n"
                "Commands:\n",
                VT_HOST_DEFAULT_URI, ATTEST_STATE_DIR, VT_HOST_PORT_NAME);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
        fputs("\nExit status: 0 ok, 1 the guest answered with an error (or verify failed),\n"
              "2 usage (or no such directory or domain), 3 no agent, no channel or no answer in\n"
              "time, 4 the host's state cannot be read (libvirt unreachable, permission denied).\n"
              "scan --interval: 0 when stopped by SIGTERM/SIGINT or after --count rounds; the\n"
              "first round's error ends it with that round's status, later ones are retried.\n",
              f);
}

static const struct host_cmd *cmd_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

int main(int argc, char **argv)
{
        enum {
                O_VERSION = 256,
                O_NONCE,
                O_RANDOM,
                O_AK,
                O_DRY_RUN,
                O_PROM,
                O_NAME,
                O_IMA,
                O_PCRS,
                O_FROM_FILES,
                O_PROM_FILE,
                O_TABLE,
                O_LIVE,
                O_CONFIG,
                O_EK_CA,
                O_TOFU,
                O_REACTIVATE,
                O_STATE,
                O_GUEST_ID,
                O_RECORD,
                O_REFERENCE,
                O_ATTEST,
                O_INTERVAL,
                O_COUNT,
        };
        static const struct option opts[] = {
                {"socket", required_argument, NULL, 's'},
                {"domain", required_argument, NULL, 'd'},
                {"connect", required_argument, NULL, 'c'},
                {"prometheus-file", required_argument, NULL, O_PROM_FILE},
                {"table", no_argument, NULL, O_TABLE},
                {"live", no_argument, NULL, O_LIVE},
                {"config", no_argument, NULL, O_CONFIG},
                {"timeout", required_argument, NULL, 't'},
                {"json", no_argument, NULL, 'j'},
                {"verbose", no_argument, NULL, 'v'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, O_VERSION},
                {"nonce", required_argument, NULL, O_NONCE},
                {"random", no_argument, NULL, O_RANDOM},
                {"ak", required_argument, NULL, O_AK},
                {"ak-pin", required_argument, NULL, O_AK},
                {"pcrs", required_argument, NULL, O_PCRS},
                {"from-files", no_argument, NULL, O_FROM_FILES},
                {"output", required_argument, NULL, 'o'},
                {"ima", no_argument, NULL, O_IMA},
                {"dry-run", no_argument, NULL, O_DRY_RUN},
                {"prometheus", no_argument, NULL, O_PROM},
                {"name", required_argument, NULL, O_NAME},
                {"ek-ca", required_argument, NULL, O_EK_CA},
                {"tofu", no_argument, NULL, O_TOFU},
                {"reactivate", no_argument, NULL, O_REACTIVATE},
                {"state", required_argument, NULL, O_STATE},
                {"guest-id", required_argument, NULL, O_GUEST_ID},
                {"record", required_argument, NULL, O_RECORD},
                {"reference", required_argument, NULL, O_REFERENCE},
                {"attest", no_argument, NULL, O_ATTEST},
                {"interval", required_argument, NULL, O_INTERVAL},
                {"count", required_argument, NULL, O_COUNT},
                {},
        };
        _cleanup_strv_ char **ek_ca = NULL;
        struct host h = {.timeout_ms = -1, .uri = VT_HOST_DEFAULT_URI};
        int c;

        vt_log_init_from_env();
        while ((c = getopt_long(argc, argv, "s:d:c:t:jvqho:", opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        h.socket = optarg;
                        break;
                case 'd':
                        h.domain = optarg;
                        break;
                case 'c':
                        h.uri = optarg;
                        break;
                case O_PROM_FILE:
                        h.prom_file = optarg;
                        h.used |= OPT_PROM_FILE;
                        break;
                case O_TABLE:
                        h.table = true;
                        h.used |= OPT_TABLE;
                        break;
                case O_LIVE:
                        h.live = true;
                        h.used |= OPT_LIVE;
                        break;
                case O_CONFIG:
                        h.config = true;
                        h.used |= OPT_CONFIG;
                        break;
                case 't':
                        if (parse_seconds("--timeout", optarg, 0.001, 3600, &h.timeout_ms) < 0)
                                return VT_HOST_EXIT_USAGE;
                        break;
                case O_INTERVAL:
                        if (parse_seconds("--interval", optarg, 0.01, 86400, &h.interval_ms) < 0)
                                return VT_HOST_EXIT_USAGE;
                        h.used |= OPT_INTERVAL;
                        break;
                case O_COUNT: {
                        char *end;
                        errno = 0;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (end == optarg || *end || errno || n < 1 || n > UINT32_MAX ||
                            optarg[0] == '-') {
                                log_error("--count takes a number of rounds (1 or more), not '%s'",
                                          optarg);
                                return VT_HOST_EXIT_USAGE;
                        }
                        h.count = (unsigned)n;
                        h.used |= OPT_INTERVAL;
                        break;
                }
                case 'j':
                        h.json = true;
                        break;
                case 'v':
                        vt_log_more();
                        break;
                case 'q':
                        vt_log_set_level(LOG_ERR);
                        break;
                case 'h':
                        usage(stdout);
                        return VT_HOST_EXIT_OK;
                case O_VERSION:
                        printf("virtune-host %s\n", VT_VERSION);
                        return VT_HOST_EXIT_OK;
                case O_NONCE:
                        h.nonce_hex = optarg;
                        h.used |= OPT_NONCE;
                        break;
                case O_RANDOM:
                        h.random = true;
                        h.used |= OPT_RANDOM;
                        break;
                case O_AK:
                        h.ak = optarg;
                        h.used |= OPT_AK;
                        break;
                case O_PCRS:
                        h.pcrs = optarg;
                        h.used |= OPT_PCRS;
                        break;
                case O_FROM_FILES:
                        h.from_files = true;
                        h.used |= OPT_FROM_FILES;
                        break;
                case 'o':
                        h.output = optarg;
                        h.used |= OPT_OUTPUT;
                        break;
                case O_IMA:
                        h.ima = true;
                        h.used |= OPT_IMA;
                        break;
                case O_DRY_RUN:
                        h.dry_run = true;
                        h.used |= OPT_DRY_RUN;
                        break;
                case O_PROM:
                        h.prometheus = true;
                        h.used |= OPT_PROMETHEUS;
                        break;
                case O_NAME:
                        h.name = optarg;
                        h.used |= OPT_NAME;
                        break;
                case O_EK_CA:
                        if (vt_strv_add(&ek_ca, optarg) < 0)
                                return log_error_errno(-ENOMEM, "--ek-ca"), VT_HOST_EXIT_USAGE;
                        h.ek_ca = ek_ca;
                        h.used |= OPT_ATTEST;
                        break;
                case O_TOFU:
                        h.tofu = true;
                        h.used |= OPT_ATTEST;
                        break;
                case O_REACTIVATE:
                        h.reactivate = true;
                        h.used |= OPT_ATTEST;
                        break;
                case O_STATE:
                        h.state_dir = optarg;
                        h.used |= OPT_ATTEST;
                        break;
                case O_GUEST_ID:
                        h.guest_id = optarg;
                        h.used |= OPT_ATTEST;
                        break;
                case O_RECORD:
                        h.record = optarg;
                        h.used |= OPT_ATTEST;
                        break;
                case O_REFERENCE:
                        h.reference = optarg;
                        h.used |= OPT_ATTEST;
                        break;
                case O_ATTEST:
                        h.attest = true;
                        h.used |= OPT_ATTEST;
                        break;
                default:
                        usage(stderr);
                        return VT_HOST_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return VT_HOST_EXIT_USAGE;
        }
        const struct host_cmd *cmd = cmd_find(argv[optind]);
        if (!cmd) {
                log_error("Unknown command '%s' (see --help)", argv[optind]);
                return VT_HOST_EXIT_USAGE;
        }
        if (h.used & ~cmd->options) {
                log_error("%s: an option given does not apply to this command (see --help)",
                          cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        /* an apply may run the boot loader's generator: seconds under emulation */
        if (h.timeout_ms < 0)
                h.timeout_ms = cmd->run == run_tune ? 300000 : 5000;
        if (h.nonce_hex && h.random) {
                log_error("%s: --nonce and --random exclude each other", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }

        if (h.socket && h.domain) {
                log_error("%s: --socket and --domain exclude each other", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        /* --json with --prometheus-file: JSON lines to stdout, the exposition to the file */
        if ((h.json && (h.table || h.prometheus)) || (h.table && (h.prometheus || h.prom_file))) {
                log_error("%s: give one output format", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        if (h.attest && h.json && h.prom_file) {
                log_error("scan --attest: give --json or --prometheus-file");
                return VT_HOST_EXIT_USAGE;
        }
        if (h.count && !h.interval_ms) {
                log_error("scan: --count goes with --interval");
                return VT_HOST_EXIT_USAGE;
        }
        if (h.interval_ms && (h.prometheus || h.attest)) {
                log_error("scan --interval: %s", h.attest ? "not with --attest"
                                                          : "the exposition goes to a file: "
                                                            "--prometheus-file PATH, not "
                                                            "--prometheus");
                return VT_HOST_EXIT_USAGE;
        }
        if (cmd->run == run_scan || cmd->run == run_setup) {
                if (h.socket || (cmd->run == run_scan && h.domain)) {
                        log_error("%s: takes no --socket%s", cmd->name,
                                  cmd->run == run_scan ? " or --domain" : "");
                        return VT_HOST_EXIT_USAGE;
                }
                h.files = argv + optind + 1;
                h.nfiles = (size_t)(argc - optind - 1);
                if (cmd->run == run_setup && h.nfiles) {
                        log_error("setup: unexpected argument '%s'", h.files[0]);
                        return VT_HOST_EXIT_USAGE;
                }
                return cmd->run(&h, cmd);
        }
        if (h.from_files) {
                h.files = argv + optind + 1;
                h.nfiles = (size_t)(argc - optind - 1);
                if (h.nfiles < 1 || h.nfiles > 2 || h.socket || h.random) {
                        log_error("verify --from-files: give QUOTE.json [EVENTLOG] and --nonce, "
                                  "no --socket or --random");
                        return VT_HOST_EXIT_USAGE;
                }
                return cmd->run(&h, cmd);
        }
        if (optind + 1 < argc) {
                log_error("%s: unexpected argument '%s'", cmd->name, argv[optind + 1]);
                return VT_HOST_EXIT_USAGE;
        }
        if (!h.socket && !h.domain) {
                log_error("%s: name the guest: -d DOMAIN (libvirt) or --socket PATH", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        if (h.domain) {
                int r = resolve_domain(&h);
                if (r != 0)
                        return r;
        }
        h.label = h.domain ? h.domain : h.socket;
        h.table_fn = cmd->table;
        h.text_fn = cmd->text;
        int r = cmd->run(&h, cmd);
        free(h.socket_owned);
        free(h.uuid);
        return r;
}
