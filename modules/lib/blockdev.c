/* What libblkid reads from a disk's bytes: its partitions and the filesystem on each. */
#include <blkid/blkid.h>
#include <ctype.h>
#include <strings.h>
#include "blockdev.h"

#define ESP_GUID "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

void vt_blk_table_free(struct vt_blk_table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->parts[i].fstype);
                free(t->parts[i].uuid);
                free(t->parts[i].parttype);
        }
        free(t->parts);
        *t = (struct vt_blk_table){};
}

static void probe_freep(blkid_probe *p)
{
        if (*p)
                blkid_free_probe(*p);
}

static char *dup_value(blkid_probe pr, const char *name)
{
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0 || !v)
                return NULL;
        return strdup(v);
}

/* The filesystem inside [off, off+size) of fd. */
static void probe_fs(int fd, blkid_loff_t off, blkid_loff_t size, struct vt_blk_part *p)
{
        _cleanup_(probe_freep) blkid_probe pr = blkid_new_probe();
        if (!pr || blkid_probe_set_device(pr, fd, off, size) < 0)
                return;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
        blkid_probe_enable_partitions(pr, 0);
        if (blkid_do_safeprobe(pr) != 0)
                return;
        p->fstype = dup_value(pr, "TYPE");
        p->uuid = dup_value(pr, "UUID");
}

int vt_blk_probe_fd(int fd, struct vt_blk_table *ret)
{
        *ret = (struct vt_blk_table){};
        _cleanup_(probe_freep) blkid_probe pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        blkid_partlist pl = blkid_probe_get_partitions(pr);
        if (!pl)
                return 0; /* no partition table */
        int n = blkid_partlist_numof_partitions(pl);
        if (n <= 0)
                return 0;
        /* The table is hostile input: cap what we keep. */
        if (n > 256)
                n = 256;
        struct vt_blk_table t = {.parts = calloc((size_t)n, sizeof(struct vt_blk_part))};
        if (!t.parts)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                blkid_partition par = blkid_partlist_get_partition(pl, i);
                if (!par)
                        continue;
                struct vt_blk_part *p = &t.parts[t.n++];
                p->number = blkid_partition_get_partno(par);
                const char *guid = blkid_partition_get_type_string(par);
                if (guid) {
                        p->parttype = strdup(guid);
                        for (char *c = p->parttype; c && *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                } else if (asprintf(&p->parttype, "0x%x", blkid_partition_get_type(par)) < 0) {
                        p->parttype = NULL;
                }
                /* libblkid counts partitions in 512-byte sectors whatever the disk's. */
                probe_fs(fd, blkid_partition_get_start(par) * 512,
                         blkid_partition_get_size(par) * 512, p);
        }
        *ret = t;
        return 0;
}

const struct vt_blk_part *vt_blk_table_find(const struct vt_blk_table *t, int n)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->parts[i].number == n)
                        return &t->parts[i];
        return NULL;
}

bool vt_blk_is_esp(const char *parttype)
{
        return parttype &&
               (strcasecmp(parttype, ESP_GUID) == 0 || strcasecmp(parttype, "0xef") == 0);
}
