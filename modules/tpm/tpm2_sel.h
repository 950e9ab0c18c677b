/* PCR banks by name and PCR selections as text ("sha1:0,7+sha256:0-9"), shared by guest and host.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <tss2/tss2_tpm2_types.h>
#include "util.h"

struct vt_pcr_bank {
        TPM2_ALG_ID alg;
        const char *name;
        uint16_t size;   /* digest size in bytes */
        const char *evp; /* OpenSSL's name for the hash */
};

/* NULL when the algorithm or name is not a PCR bank we know. */
const struct vt_pcr_bank *vt_pcr_bank_by_alg(TPM2_ALG_ID alg);
const struct vt_pcr_bank *vt_pcr_bank_by_name(const char *name);

/* "sha256:0-9", "sha1:0,2,4+sha256:all", "sha256" (all of it); -EINVAL on anything else. */
int vt_pcrsel_parse(const char *text, TPML_PCR_SELECTION *ret);
/* The canonical text of a selection ("sha256:0-9"); caller frees. */
char *vt_pcrsel_format(const TPML_PCR_SELECTION *sel);
bool vt_pcrsel_test(const TPMS_PCR_SELECTION *s, unsigned pcr);
bool vt_pcrsel_equal(const TPML_PCR_SELECTION *a, const TPML_PCR_SELECTION *b);

/*
 * PCR values ({"sha1": {"0": "hex", ...}, ...}) in tpm2_pcrread's layout, byte for byte:
 * "  sha1:\n    0 : 0xHEX\n", banks in sel's order (NULL: all, in the document's order), PCRs
 * ascending. The one layout of `virtune pcrs` and `virtune-host pcrs`.
 */
int vt_pcr_values_print(FILE *f, json_object *values, const TPML_PCR_SELECTION *sel);
