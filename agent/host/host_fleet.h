/* virtune-host scan --attest: every guest attested at once, each with its own nonce. */
#pragma once

#include <stdio.h>
#include "host_attest.h"

struct vt_fleet_target {
        const char *socket;
        const char *domain; /* libvirt's name and UUID where known, else NULL */
        const char *uuid;
};

/*
 * Attests every target concurrently, printing each guest's report as a JSON line as it
 * completes, or at the end the Prometheus series (virtune_attestation_ok, _timestamp_seconds,
 * with the reason as a label). One I/O thread (the caller's) holds a connection per guest (as
 * many at once as RLIMIT_NOFILE allows) and sends each, with the sync, what vt_attest_run asks
 * whatever the replies say (vt_attest_quote_args); workers, one per CPU, run vt_attest_run on
 * the replies (vt_attest_start, then vt_attest_finish); the guest's virtune-activate, which
 * depends on the replies, goes out through the I/O thread while the workers take other guests,
 * and its attestation resumes on a worker once the answer is in (no thread waits for it); a
 * later event-log piece is asked while its worker waits without its CPU slot (another worker
 * takes the next guest).
 * base gives the trust anchors, state and selection; the guest id is the UUID, else the socket.
 * Two guests presenting one EK in the same scan are flagged. Returns the number of guests that
 * passed, or -errno.
 */
int vt_attest_fleet(const struct vt_fleet_target *targets, size_t n,
                    const struct vt_attest_opts *base, int timeout_ms, bool prometheus, FILE *out);
