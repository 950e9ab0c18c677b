/* The haltpoll governor's parameters: one table for detect, plan and the policy keys. */
#pragma once

#include <stdint.h>
#include "util.h"

/*
 * X(name, is_bool, max, help): /sys/module/haltpoll/parameters/<name>, a Y/N bool or a number
 * up to max (longer polls or faster growth only burn the host's CPU), and its policy key.
 */
#define VT_HALTPOLL_PARAMS(X)                                                                      \
        X(guest_halt_poll_ns, false, 10000000, "max poll time, ns (1-10000000); set at runtime")   \
        X(guest_halt_poll_grow, false, 64, "poll time growth factor (0-64)")                       \
        X(guest_halt_poll_grow_start, false, 10000000,                                             \
          "first poll time when growing, ns (0-10000000)")                                         \
        X(guest_halt_poll_shrink, false, 64, "poll time shrink divisor (0-64; 0 resets)")          \
        X(guest_halt_poll_allow_shrink, true, 1, "allow the poll time to shrink")

struct vt_haltpoll_param {
        const char *name;
        bool is_bool;
        uint64_t max;
};

#define VT_HALTPOLL_ONE(n, b, m, h) +1
enum { VT_HALTPOLL_NPARAMS = 0 VT_HALTPOLL_PARAMS(VT_HALTPOLL_ONE) };
#undef VT_HALTPOLL_ONE
extern const struct vt_haltpoll_param vt_haltpoll_params[VT_HALTPOLL_NPARAMS];
