/* daemon-reload and try-restart through systemd's private bus with sd-bus, as systemctl does. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dl.h"
#include "log.h"
#include "sdbus.h"
#include "util.h"

#if HAVE_SD_BUS
#include <systemd/sd-bus.h>

typeof(sd_bus_new) *sym_sd_bus_new;
typeof(sd_bus_set_address) *sym_sd_bus_set_address;
typeof(sd_bus_start) *sym_sd_bus_start;
typeof(sd_bus_set_method_call_timeout) *sym_sd_bus_set_method_call_timeout;
typeof(sd_bus_flush_close_unref) *sym_sd_bus_flush_close_unref;
typeof(sd_bus_match_signal) *sym_sd_bus_match_signal;
typeof(sd_bus_call_method) *sym_sd_bus_call_method;
typeof(sd_bus_message_read) *sym_sd_bus_message_read;
typeof(sd_bus_message_unref) *sym_sd_bus_message_unref;
typeof(sd_bus_process) *sym_sd_bus_process;
typeof(sd_bus_wait) *sym_sd_bus_wait;
typeof(sd_bus_error_free) *sym_sd_bus_error_free;
typeof(sd_bus_slot_unref) *sym_sd_bus_slot_unref;

static const struct vt_dl_sym sd_syms[] = {
        VT_DL_SYM(sd_bus_new),
        VT_DL_SYM(sd_bus_set_address),
        VT_DL_SYM(sd_bus_start),
        VT_DL_SYM(sd_bus_set_method_call_timeout),
        VT_DL_SYM(sd_bus_flush_close_unref),
        VT_DL_SYM(sd_bus_match_signal),
        VT_DL_SYM(sd_bus_call_method),
        VT_DL_SYM(sd_bus_message_read),
        VT_DL_SYM(sd_bus_message_unref),
        VT_DL_SYM(sd_bus_process),
        VT_DL_SYM(sd_bus_wait),
        VT_DL_SYM(sd_bus_error_free),
        VT_DL_SYM(sd_bus_slot_unref),
};

static struct vt_dl_lib sd_lib = {
        .soname = "libsystemd.so.0", .syms = sd_syms, .n_syms = ARRAY_SIZE(sd_syms)};

#define MANAGER_PATH  "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
/* systemctl's own bound for a reload (its DAEMON_RELOAD_TIMEOUT_SEC): seconds in a TCG guest. */
#define RELOAD_TIMEOUT_USEC (6ull * 60 * 1000000)

static void bus_closep(sd_bus **b)
{
        if (*b)
                sym_sd_bus_flush_close_unref(*b);
}

/* The manager's private socket, as systemctl uses it as root: no dbus-daemon needed (early boot).
 */
static int connect_manager(sd_bus **ret)
{
        sd_bus *b = NULL;
        if (vt_dl_open(&sd_lib) < 0)
                return -ENOTCONN;
        int r = sym_sd_bus_new(&b);
        if (r < 0)
                return r;
        const char *address = getenv("VIRTUNE_SYSTEMD_BUS"); /* tests: a stand-in manager */
        if (sym_sd_bus_set_address(b, address ? address : "unix:path=/run/systemd/private") < 0 ||
            sym_sd_bus_start(b) < 0) {
                sym_sd_bus_flush_close_unref(b);
                return -ENOTCONN;
        }
        *ret = b;
        return 0;
}

/*
 * A Manager method with no arguments (unit NULL) or with (unit, "ignore-dependencies"); errors
 * logged. A restart ignores ordering: the apply may run inside a unit ordered before the one it
 * restarts (virtune-firstboot is Before=qemu-guest-agent.service, and `systemctl restart
 * virtune-firstboot` by hand runs it while qemu-ga runs): a "replace" job would wait for the
 * apply's own start job, which waits for the restart.
 */
static int call(sd_bus *b, const char *method, const char *unit, sd_bus_message **reply)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = unit ? sym_sd_bus_call_method(b, "org.freedesktop.systemd1", MANAGER_PATH,
                                              MANAGER_IFACE, method, &e, reply, "ss", unit,
                                              "ignore-dependencies")
                     : sym_sd_bus_call_method(b, "org.freedesktop.systemd1", MANAGER_PATH,
                                              MANAGER_IFACE, method, &e, reply, NULL);
        if (r < 0)
                log_error("systemd refused %s%s%s: %s", method, unit ? " of " : "",
                          unit ? unit : "", e.message ? e.message : strerror(-r));
        sym_sd_bus_error_free(&e);
        return r;
}

int vt_sd_daemon_reload(void)
{
        _cleanup_(bus_closep) sd_bus *b = NULL;
        int r = connect_manager(&b);
        if (r < 0)
                return r;
        sym_sd_bus_set_method_call_timeout(b, RELOAD_TIMEOUT_USEC);
        r = call(b, "Reload", NULL, NULL);
        return r < 0 ? r : 0;
}

struct job_wait {
        const char *path; /* NULL until TryRestartUnit answered */
        char result[32];
        bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct job_wait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        (void)error;
        if (sym_sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || !w->path ||
            !streq(path, w->path))
                return 0;
        snprintf(w->result, sizeof(w->result), "%s", result);
        w->done = true;
        return 0;
}

int vt_sd_try_restart(const char *unit)
{
        _cleanup_(bus_closep) sd_bus *b = NULL;
        int r = connect_manager(&b);
        if (r < 0)
                return r;
        struct job_wait w = {0};
        sd_bus_slot *slot = NULL;
        /* The match first: the signal may be read before the call's answer (then dispatched after).
         * A direct connection's messages carry no sender, so none is matched on. Systemd sends its
         * signals to every direct connection, Subscribe() or not. */
        r = sym_sd_bus_match_signal(b, &slot, NULL, MANAGER_PATH, MANAGER_IFACE, "JobRemoved",
                                    on_job_removed, &w);
        if (r < 0)
                return log_error_errno(r, "Cannot watch systemd's jobs for %s", unit);
        sd_bus_message *reply = NULL;
        r = call(b, "TryRestartUnit", unit, &reply);
        const char *job = NULL;
        if (r >= 0 && (r = sym_sd_bus_message_read(reply, "o", &job)) >= 0)
                w.path = job;
        while (r >= 0 && !w.done) {
                r = sym_sd_bus_process(b, NULL);
                if (r == 0)
                        r = sym_sd_bus_wait(b, UINT64_MAX);
        }
        if (r < 0 && w.path)
                log_error_errno(r, "Lost systemd while waiting for the restart of %s", unit);
        sym_sd_bus_message_unref(reply);
        sym_sd_bus_slot_unref(slot);
        if (r < 0)
                return r;
        if (streq(w.result, "done") || streq(w.result, "skipped"))
                return 0;
        log_error("The restart of %s ended with result '%s' (see systemctl status %s)", unit,
                  w.result, unit);
        return -EIO;
}

#else /* no sd-bus headers at build time: systemctl does it */

int vt_sd_daemon_reload(void)
{
        return -ENOTCONN;
}

int vt_sd_try_restart(const char *unit)
{
        (void)unit;
        return -ENOTCONN;
}
#endif
