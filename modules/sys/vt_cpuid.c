/* CPUID from the CPU itself or from a fixture file. */
#include <inttypes.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "vt_cpuid.h"

struct vt_cpuid_entry {
        uint32_t leaf, subleaf, regs[4];
};

struct vt_cpuid {
        bool native;
        size_t n;
        struct vt_cpuid_entry *e;
};

struct vt_cpuid *vt_cpuid_new_native(void)
{
#if defined(__x86_64__) || defined(__i386__)
        struct vt_cpuid *c = calloc(1, sizeof(*c));
        if (c)
                c->native = true;
        return c;
#else
        return NULL;
#endif
}

int vt_cpuid_new_file(const char *path, struct vt_cpuid **ret)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        struct vt_cpuid *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                struct vt_cpuid_entry e;
                int k = sscanf(line,
                               "%" SCNx32 " %" SCNx32 " %" SCNx32 " %" SCNx32 " %" SCNx32
                               " %" SCNx32,
                               &e.leaf, &e.subleaf, &e.regs[0], &e.regs[1], &e.regs[2], &e.regs[3]);
                if (k <= 0)
                        continue;
                if (k != 6) {
                        vt_cpuid_free(c);
                        return -EINVAL;
                }
                struct vt_cpuid_entry *ne = realloc(c->e, (c->n + 1) * sizeof(*ne));
                if (!ne) {
                        vt_cpuid_free(c);
                        return -ENOMEM;
                }
                c->e = ne;
                c->e[c->n++] = e;
        }
        *ret = c;
        return 0;
}

void vt_cpuid_free(struct vt_cpuid *c)
{
        if (!c)
                return;
        free(c->e);
        free(c);
}

int vt_cpuid_query(struct vt_cpuid *c, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
        memset(regs, 0, 4 * sizeof(regs[0]));
        if (!c)
                return -ENODEV;
#if defined(__x86_64__) || defined(__i386__)
        if (c->native) {
                __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
                return 0;
        }
#endif
        for (size_t i = 0; i < c->n; i++)
                if (c->e[i].leaf == leaf && c->e[i].subleaf == subleaf) {
                        memcpy(regs, c->e[i].regs, 4 * sizeof(regs[0]));
                        return 0;
                }
        return 0;
}
