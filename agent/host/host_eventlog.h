/* A guest's whole event log over the channel: the pieces virtune-eventlog sends, put together. */
#pragma once

#include "host_attest.h"

/* The largest event log virtune-host takes (a guest sends it in VT_PROTO_EVENTLOG_CHUNK pieces). */
#define VT_HOST_EVENTLOG_MAX (16u << 20)

/*
 * Asks virtune-eventlog (ima: the IMA log) from offset 0 until a piece says "complete", each
 * piece checked against the others (source, format, size, offset, next_offset, its length),
 * at most VT_HOST_EVENTLOG_MAX bytes in all. *ret is the reply of one call for the whole log.
 * Returns 0; the call's own error (-EREMOTEIO: the guest answered an error); -EBADMSG for a
 * piece that does not fit, -EFBIG past the bound, with err saying which and why.
 */
int vt_host_eventlog_fetch(vt_attest_call_fn call, void *userdata, bool ima, json_object **ret,
                           char *err, size_t errlen);
