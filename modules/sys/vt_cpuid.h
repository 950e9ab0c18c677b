/* CPUID behind a small interface, so fixtures can supply what a live x86 CPU would answer. */
#pragma once

#include <stdint.h>
#include "util.h"

struct vt_cpuid;

/* The executing CPU (x86 only; NULL elsewhere). */
struct vt_cpuid *vt_cpuid_new_native(void);
/*
 * Answers from a text file, one leaf a line: "LEAF SUBLEAF EAX EBX ECX EDX" in hex
 * (0x prefix optional); '#' starts a comment. Unlisted leaves answer all zeroes.
 */
int vt_cpuid_new_file(const char *path, struct vt_cpuid **ret);
void vt_cpuid_free(struct vt_cpuid *c);
/* regs: eax, ebx, ecx, edx. */
int vt_cpuid_query(struct vt_cpuid *c, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
