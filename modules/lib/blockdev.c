/* What libblkid reads from a disk's bytes: its partitions and the filesystem on each. */
#include <blkid/blkid.h>
#include <ctype.h>
#include <strings.h>
#include "blockdev.h"
#include "dl.h"

#define ESP_GUID "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

/*
 * libblkid.so.1, opened on the first probe: most runs (an apply, the daemon) read no disk's bytes
 * and so do not load it at start.
 */
static typeof(blkid_free_probe) *sym_blkid_free_probe;
static typeof(blkid_probe_lookup_value) *sym_blkid_probe_lookup_value;
static typeof(blkid_new_probe) *sym_blkid_new_probe;
static typeof(blkid_probe_set_device) *sym_blkid_probe_set_device;
static typeof(blkid_probe_enable_superblocks) *sym_blkid_probe_enable_superblocks;
static typeof(blkid_probe_set_superblocks_flags) *sym_blkid_probe_set_superblocks_flags;
static typeof(blkid_probe_enable_partitions) *sym_blkid_probe_enable_partitions;
static typeof(blkid_do_safeprobe) *sym_blkid_do_safeprobe;
static typeof(blkid_probe_get_partitions) *sym_blkid_probe_get_partitions;
static typeof(blkid_partlist_numof_partitions) *sym_blkid_partlist_numof_partitions;
static typeof(blkid_partlist_get_partition) *sym_blkid_partlist_get_partition;
static typeof(blkid_partition_get_partno) *sym_blkid_partition_get_partno;
static typeof(blkid_partition_get_type_string) *sym_blkid_partition_get_type_string;
static typeof(blkid_partition_get_type) *sym_blkid_partition_get_type;
static typeof(blkid_partition_get_start) *sym_blkid_partition_get_start;
static typeof(blkid_partition_get_size) *sym_blkid_partition_get_size;

static const struct vt_dl_sym blkid_syms[] = {
        VT_DL_SYM(blkid_free_probe),
        VT_DL_SYM(blkid_probe_lookup_value),
        VT_DL_SYM(blkid_new_probe),
        VT_DL_SYM(blkid_probe_set_device),
        VT_DL_SYM(blkid_probe_enable_superblocks),
        VT_DL_SYM(blkid_probe_set_superblocks_flags),
        VT_DL_SYM(blkid_probe_enable_partitions),
        VT_DL_SYM(blkid_do_safeprobe),
        VT_DL_SYM(blkid_probe_get_partitions),
        VT_DL_SYM(blkid_partlist_numof_partitions),
        VT_DL_SYM(blkid_partlist_get_partition),
        VT_DL_SYM(blkid_partition_get_partno),
        VT_DL_SYM(blkid_partition_get_type_string),
        VT_DL_SYM(blkid_partition_get_type),
        VT_DL_SYM(blkid_partition_get_start),
        VT_DL_SYM(blkid_partition_get_size),
};

static struct vt_dl_lib blkid_lib = VT_DL_LIB("libblkid.so.1", blkid_syms, .package = "libblkid1");

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
                sym_blkid_free_probe(*p);
}

static char *dup_value(blkid_probe pr, const char *name)
{
        const char *v = NULL;
        if (sym_blkid_probe_lookup_value(pr, name, &v, NULL) < 0 || !v)
                return NULL;
        return strdup(v);
}

/* The filesystem inside [off, off+size) of fd. */
static void probe_fs(int fd, blkid_loff_t off, blkid_loff_t size, struct vt_blk_part *p)
{
        _cleanup_(probe_freep) blkid_probe pr = sym_blkid_new_probe();
        if (!pr || sym_blkid_probe_set_device(pr, fd, off, size) < 0)
                return;
        sym_blkid_probe_enable_superblocks(pr, 1);
        sym_blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
        sym_blkid_probe_enable_partitions(pr, 0);
        if (sym_blkid_do_safeprobe(pr) != 0)
                return;
        p->fstype = dup_value(pr, "TYPE");
        p->uuid = dup_value(pr, "UUID");
}

int vt_blk_probe_fd(int fd, struct vt_blk_table *ret)
{
        *ret = (struct vt_blk_table){};
        int r = vt_dl_open(&blkid_lib);
        if (r < 0)
                return r;
        _cleanup_(probe_freep) blkid_probe pr = sym_blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (sym_blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        blkid_partlist pl = sym_blkid_probe_get_partitions(pr);
        if (!pl)
                return 0; /* no partition table */
        int n = sym_blkid_partlist_numof_partitions(pl);
        if (n <= 0)
                return 0;
        /* The table is hostile input: cap what we keep. */
        if (n > 256)
                n = 256;
        struct vt_blk_table t = {.parts = calloc((size_t)n, sizeof(struct vt_blk_part))};
        if (!t.parts)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                blkid_partition par = sym_blkid_partlist_get_partition(pl, i);
                if (!par)
                        continue;
                struct vt_blk_part *p = &t.parts[t.n++];
                p->number = sym_blkid_partition_get_partno(par);
                const char *guid = sym_blkid_partition_get_type_string(par);
                if (guid) {
                        p->parttype = strdup(guid);
                        for (char *c = p->parttype; c && *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                } else if (asprintf(&p->parttype, "0x%x", sym_blkid_partition_get_type(par)) < 0) {
                        p->parttype = NULL;
                }
                /* libblkid counts partitions in 512-byte sectors whatever the disk's. */
                probe_fs(fd, sym_blkid_partition_get_start(par) * 512,
                         sym_blkid_partition_get_size(par) * 512, p);
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
