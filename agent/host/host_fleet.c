/* The fleet's attestation: a thread per guest, results printed as they come, EKs compared. */
#include <limits.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <time.h>
#include "host.h"
#include "host_fleet.h"

#define THREAD_STACK (256u << 10) /* json-c and OpenSSL need little; 1000 threads stay small */

struct result {
        bool ok;
        char reason[32];
        int64_t when;
};

struct fleet {
        const struct vt_fleet_target *t;
        size_t n, next;
        const struct vt_attest_opts *base;
        int timeout_ms;
        bool prometheus;
        FILE *out;
        pthread_mutex_t lock;
        json_object *eks; /* EK name -> the first guest that presented it in this scan */
        struct result *results;
        uint8_t *nonces; /* VT_ATTEST_NONCE_LEN bytes per guest */
};

static const char *guest_id(const struct vt_fleet_target *t)
{
        return t->uuid ? t->uuid : t->socket;
}

static bool ek_seen(void *userdata, const char *ek, const char *id, char *other, size_t size)
{
        struct fleet *f = userdata;
        json_object *first;
        pthread_mutex_lock(&f->lock);
        bool dup = json_object_object_get_ex(f->eks, ek, &first);
        if (dup)
                snprintf(other, size, "%s", json_object_get_string(first));
        else
                json_object_object_add(f->eks, ek, json_object_new_string(id));
        pthread_mutex_unlock(&f->lock);
        return dup;
}

static void attest_one(struct fleet *f, size_t i)
{
        const struct vt_fleet_target *t = &f->t[i];
        struct vt_attest_opts o = *f->base;
        o.guest_id = guest_id(t);
        o.ek_seen = ek_seen;
        o.ek_seen_userdata = f;
        o.nonce = f->nonces + i * VT_ATTEST_NONCE_LEN;
        struct vt_host_caller c = {.socket = t->socket, .timeout_ms = f->timeout_ms};
        _cleanup_json_ json_object *report = NULL;
        int r = vt_attest_run(&o, vt_host_caller_call, &c, &report);
        vt_host_caller_close(&c);
        struct result *res = &f->results[i];
        res->when = (int64_t)time(NULL);
        if (r < 0) {
                snprintf(res->reason, sizeof(res->reason), "agent");
                report = json_object_new_object();
                json_object_object_add(report, "ok", json_object_new_boolean(false));
                vt_json_add_str(report, "reason", "agent");
        } else {
                res->ok = json_object_get_boolean(json_object_object_get(report, "ok"));
                snprintf(res->reason, sizeof(res->reason), "%s",
                         json_object_get_string(json_object_object_get(report, "reason")));
        }
        vt_json_add_str(report, "socket", t->socket);
        vt_json_add_str(report, "domain", t->domain);
        vt_json_add_str(report, "uuid", t->uuid);
        if (f->prometheus)
                return;
        pthread_mutex_lock(&f->lock);
        fprintf(f->out, "%s\n",
                json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(f->out);
        pthread_mutex_unlock(&f->lock);
}

static void *worker(void *userdata)
{
        struct fleet *f = userdata;
        for (;;) {
                pthread_mutex_lock(&f->lock);
                size_t i = f->next++;
                pthread_mutex_unlock(&f->lock);
                if (i >= f->n)
                        return NULL;
                attest_one(f, i);
        }
}

/* A label value in quotes, escaped as scan's own series are. */
static void label_value(FILE *out, const char *s)
{
        fputc('"', out);
        vt_host_prom_label(out, s);
        fputc('"', out);
}

static void labels(FILE *out, const struct vt_fleet_target *t)
{
        if (t->domain) {
                fputs("domain=", out);
                label_value(out, t->domain);
                fputs(",uuid=", out);
                label_value(out, t->uuid ? t->uuid : "");
        } else {
                fputs("socket=", out);
                label_value(out, t->socket);
        }
}

static void prometheus(struct fleet *f)
{
        fputs("# HELP virtune_attestation_ok Whether the guest's last attestation passed every "
              "check (reason: the first that failed).\n"
              "# TYPE virtune_attestation_ok gauge\n",
              f->out);
        for (size_t i = 0; i < f->n; i++) {
                fputs("virtune_attestation_ok{", f->out);
                labels(f->out, &f->t[i]);
                fputs(",reason=", f->out);
                label_value(f->out, f->results[i].reason);
                fprintf(f->out, "} %d\n", f->results[i].ok);
        }
        fputs("# HELP virtune_attestation_timestamp_seconds When the guest was last attested.\n"
              "# TYPE virtune_attestation_timestamp_seconds gauge\n",
              f->out);
        for (size_t i = 0; i < f->n; i++) {
                fputs("virtune_attestation_timestamp_seconds{", f->out);
                labels(f->out, &f->t[i]);
                fprintf(f->out, "} %" PRId64 "\n", f->results[i].when);
        }
}

static int fleet_run(const struct vt_fleet_target *targets, size_t n,
                     const struct vt_attest_opts *base, int timeout_ms, bool prom, FILE *out)
{
        struct fleet f = {.t = targets,
                          .n = n,
                          .base = base,
                          .timeout_ms = timeout_ms,
                          .prometheus = prom,
                          .out = out};
        size_t nthreads = n < VT_FLEET_THREADS_MAX ? n : VT_FLEET_THREADS_MAX;
        f.results = calloc(n ? n : 1, sizeof(*f.results));
        f.nonces = malloc((n ? n : 1) * VT_ATTEST_NONCE_LEN);
        pthread_t *th = calloc(nthreads ? nthreads : 1, sizeof(*th));
        f.eks = json_object_new_object();
        if (!f.results || !f.nonces || !th || !f.eks) {
                free(f.results), free(f.nonces), free(th), json_object_put(f.eks);
                return -ENOMEM;
        }
        if (n > INT_MAX / VT_ATTEST_NONCE_LEN ||
            RAND_bytes(f.nonces, (int)(n * VT_ATTEST_NONCE_LEN)) != 1) {
                free(f.results), free(f.nonces), free(th), json_object_put(f.eks);
                return -EIO;
        }
        pthread_mutex_init(&f.lock, NULL);
        vt_host_raise_nofile(n);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, THREAD_STACK);
        size_t started = 0;
        for (; started < nthreads; started++)
                if (pthread_create(&th[started], &attr, worker, &f) != 0)
                        break; /* the threads running share the rest */
        pthread_attr_destroy(&attr);
        if (started == 0)
                worker(&f);
        for (size_t i = 0; i < started; i++)
                pthread_join(th[i], NULL);
        if (prom)
                prometheus(&f);
        int passed = 0;
        for (size_t i = 0; i < n; i++)
                passed += f.results[i].ok;
        pthread_mutex_destroy(&f.lock);
        json_object_put(f.eks);
        free(th);
        free(f.results);
        free(f.nonces);
        return passed;
}

int vt_attest_fleet(const struct vt_fleet_target *targets, size_t n,
                    const struct vt_attest_opts *base, int timeout_ms, bool prom, FILE *out)
{
        /* what every guest's checks read, the trust anchors and the state directory's EKs,
         * loaded once for the scan and shared read-only by the threads */
        struct vt_attest_opts shared = *base;
        bool own_trust = !base->ek_trust && !base->ek_trust_error, own_index = !base->ek_index;
        if (own_trust)
                (void)vt_attest_trust_load(&shared); /* an error is each guest's finding */
        if (own_index && vt_attest_index_load(&shared) < 0)
                shared.ek_index = NULL; /* then each guest reads the directory itself */
        int r = fleet_run(targets, n, &shared, timeout_ms, prom, out);
        if (!own_trust)
                shared.ek_trust = NULL;
        if (!own_index)
                shared.ek_index = NULL;
        vt_attest_opts_done(&shared);
        return r;
}
