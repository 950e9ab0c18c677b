/* Replays a TCG measured-boot event log (crypto-agile TCG_PCR_EVENT2, or SHA-1 only) into PCRs. */
#pragma once

#include <stdint.h>
#include "tpm2_sel.h"

#define VT_EVLOG_PCRS      24
#define VT_EVLOG_BANKS_MAX 8

struct vt_evlog_bank {
        const struct vt_pcr_bank *bank; /* NULL: a bank not known, or not asked for: skipped */
        const struct vt_pcr_bank *seen; /* the bank the log names, known or not asked for */
        uint8_t pcr[VT_EVLOG_PCRS][64];
        bool touched[VT_EVLOG_PCRS]; /* an event (or the startup locality) set it */
};

struct vt_evlog {
        size_t nbanks;
        struct vt_evlog_bank banks[VT_EVLOG_BANKS_MAX];
        size_t events;
        bool crypto_agile;
        int locality; /* from the StartupLocality event, -1 when absent */
};

/*
 * Parses and replays buf (the raw binary_bios_measurements). Every length is checked against
 * the buffer: -EBADMSG on a malformed log, -EOPNOTSUPP on a bank OpenSSL cannot hash.
 */
int vt_evlog_replay(const uint8_t *buf, size_t len, struct vt_evlog *ret);
/*
 * The same for the banks whose TPM2_ALG_ID is set in algs (bit 1 << alg) only; the others are
 * parsed and skipped as a bank OpenSSL does not know would be.
 */
int vt_evlog_replay_only(const uint8_t *buf, size_t len, uint64_t algs, struct vt_evlog *ret);
/*
 * The same, calling fn for each measurement (not the EV_NO_ACTION events) in each known bank,
 * in log order: index is the event's position in the log. A negative return stops the replay.
 */
typedef int (*vt_evlog_event_fn)(const struct vt_pcr_bank *bank, uint32_t pcr, uint32_t type,
                                 const uint8_t *digest, size_t index, void *userdata);
int vt_evlog_replay_events(const uint8_t *buf, size_t len, struct vt_evlog *ret,
                           vt_evlog_event_fn fn, void *userdata);
const struct vt_evlog_bank *vt_evlog_bank(const struct vt_evlog *log, TPM2_ALG_ID alg);
