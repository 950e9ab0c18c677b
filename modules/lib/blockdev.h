/* What libblkid reads from a disk's bytes: its partitions and the filesystem on each. */
#pragma once

#include "util.h"

struct vt_blk_part {
        int number;
        char *fstype;   /* "vfat", "ext4"; NULL when none found */
        char *uuid;     /* the filesystem's UUID */
        char *parttype; /* GPT type GUID (lower case) or MBR type "0xef" */
};

struct vt_blk_table {
        struct vt_blk_part *parts;
        size_t n;
};
void vt_blk_table_free(struct vt_blk_table *t);

/*
 * Probes the partition table of an open disk (or image file) and each partition's filesystem.
 * libblkid.so.1 is opened on the first call: -ELIBACC/-ELIBBAD when it cannot be (vt_dl_open).
 */
int vt_blk_probe_fd(int fd, struct vt_blk_table *ret);
/* The partition numbered n, or NULL. */
const struct vt_blk_part *vt_blk_table_find(const struct vt_blk_table *t, int n);
/* Whether a partition type is the EFI system partition's (GPT GUID or MBR 0xef). */
bool vt_blk_is_esp(const char *parttype);
