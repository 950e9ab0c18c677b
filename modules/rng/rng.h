/* The rng-tools flavours as their packages really ship them: one table, detect and plan read it. */
#pragma once

#include "util.h"

/* The hw RNG device rngd reads (every flavour's default; virtune names it explicitly). */
#define VT_RNG_DEVICE "/dev/hwrng"

struct vt_rngd_flavour {
        const char *package;     /* the dpkg or rpm package */
        const char *unit;        /* the systemd unit rngd runs as */
        const char *unit_file;   /* the unit file shipped; NULL: made from init_script (SysV) */
        const char *init_script; /* the SysV script shipped, or NULL */
        const char *config;      /* the file the unit reads; NULL: none (rngd's own defaults) */
        const char *var;         /* in config: the variable naming the device, or rngd's options */
        bool var_is_options;     /* var holds rngd's options: "-r DEVICE" is added to it */
};

/* Debian 12's rng-tools-debian and rng-tools5, Fedora's rng-tools; NULL-terminated. */
extern const struct vt_rngd_flavour vt_rngd_flavours[];

/* The flavour of that package name, or NULL. */
const struct vt_rngd_flavour *vt_rngd_flavour_find(const char *package);
/*
 * The quality the kernel credits the hw RNG with (facts[rng]: quality, else default_quality;
 * -1 when neither is known). Above 0 the kernel's hwrng thread feeds the pool: no rngd is
 * planned, so a plan's detection does not look for one.
 */
int64_t vt_rng_quality(json_object *rng);
