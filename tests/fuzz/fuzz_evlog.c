/* Fuzz target: a guest's measured-boot event log, replayed alone and through the host verifier. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "host_verify.h"
#include "tpm_eventlog.h"
#include "codec.h"

/* The real SeaBIOS quote of the tests/vm guest: with its own log as the seed, every check passes,
 * so mutations reach the comparison of replayed and reported PCRs. */
#ifndef VT_FUZZ_QUOTE
#error "VT_FUZZ_QUOTE: path of tests/fixtures/tpm-seabios-vm/quote.json"
#endif

static json_object *quote;
static const uint8_t nonce[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void cleanup(void)
{
        json_object_put(quote);
}

/* What the attestation's reference check collects per measurement (host_attest.c). */
struct seen {
        size_t calls, last_index;
};

static int on_event(const struct vt_pcr_bank *bank, uint32_t pcr, uint32_t type,
                    const uint8_t *digest, size_t index, void *userdata)
{
        struct seen *s = userdata;
        /* a known bank, a PCR in range, events in log order */
        if (!bank || vt_pcr_bank_by_alg(bank->alg) != bank || pcr >= VT_EVLOG_PCRS || !digest ||
            (s->calls && index < s->last_index))
                abort();
        s->calls++;
        s->last_index = index;
        (void)type;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_evlog log, again, events;
        struct seen seen = {0};

        if (!quote) {
                quote = json_object_from_file(VT_FUZZ_QUOTE);
                if (!quote)
                        abort();
                atexit(cleanup);
        }
        int r = vt_evlog_replay(data, size, &log);
        /* The oracle: only these outcomes; a bounded result; the same answer twice. */
        if (r != 0 && r != -EBADMSG && r != -EOPNOTSUPP)
                abort();
        if (vt_evlog_replay(data, size, &again) != r ||
            vt_evlog_replay_events(data, size, &events, on_event, &seen) != r ||
            (r == 0 && ((seen.calls && seen.last_index >= events.events) ||
                        memcmp(events.banks, log.banks, sizeof(log.banks)) != 0)))
                abort();
        if (r == 0) {
                if (log.nbanks > VT_EVLOG_BANKS_MAX || log.events > size / 8 ||
                    log.locality > 255 || log.events != again.events ||
                    log.nbanks != again.nbanks ||
                    memcmp(log.banks, again.banks, sizeof(log.banks)) != 0)
                        abort();
                for (size_t i = 0; i < log.nbanks; i++)
                        if (log.banks[i].bank &&
                            vt_evlog_bank(&log, log.banks[i].bank->alg) != &log.banks[i])
                                abort();
        }

        _cleanup_free_ char *b64 = vt_base64_encode(data, size);
        if (!b64)
                return 0;
        json_object *ev = json_object_new_object(), *report = NULL, *ok;
        json_object_object_add(ev, "log", json_object_new_string(b64));
        if (vt_host_verify(quote, nonce, sizeof(nonce), ev, NULL, &report) != 0 ||
            !json_object_object_get_ex(report, "ok", &ok))
                abort();
        /* a log that does not replay can never pass */
        if (r != 0 && json_object_get_boolean(ok))
                abort();
        json_object_put(report);
        json_object_put(ev);
        return 0;
}
