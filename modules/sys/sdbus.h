/* systemd's manager over its private bus, the D-Bus messages written by hand: no systemctl, no
 * libsystemd. */
#pragma once

#include <stdbool.h>

/*
 * Reload() (daemon-reload), then nothing; or TryRestartUnit(unit, "ignore-dependencies") and
 * the wait for its job's JobRemoved, as `systemctl try-restart --job-mode=ignore-dependencies`
 * does: 0 when the job's result is done or skipped; -EIO (logged with the result) when it
 * failed, timed out or was cancelled; -EREMOTEIO, the manager's error logged, when it refused
 * the call; -ETIMEDOUT (logged) when the job had not ended after 5 minutes (it is left to
 * systemd). A job that failed on the unit's start limit (Result "start-limit-hit": our own
 * restarts in a row) is followed by ResetFailedUnit and RestartUnit, once, and their result
 * counts.
 * -ENOTCONN: systemd's private bus (/run/systemd/private) cannot be reached or does not
 * take our EXTERNAL authentication, so nothing was asked: the caller may run systemctl instead.
 * $VIRTUNE_SYSTEMD_BUS (tests: a stand-in manager) replaces the bus address
 * "unix:path=/run/systemd/private"; $VIRTUNE_SYSTEMD_JOB_TIMEOUT_MS (a test hook) lowers the
 * 5 minutes.
 */
int vt_sd_daemon_reload(void);
/* only_if_running false: RestartUnit, which starts a unit that is down (a rollback bringing
 * back a service whose restart failed), as `systemctl restart` does; the rest as above. */
int vt_sd_restart(const char *unit, bool only_if_running);
static inline int vt_sd_try_restart(const char *unit)
{
        return vt_sd_restart(unit, true);
}
