/* The tss2 stack (esys, tctildr, mu), opened on first use: what modules/tpm2.c calls. */
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

extern typeof(Esys_Initialize) *sym_Esys_Initialize;
extern typeof(Esys_Finalize) *sym_Esys_Finalize;
extern typeof(Esys_Free) *sym_Esys_Free;
extern typeof(Esys_Startup) *sym_Esys_Startup;
extern typeof(Esys_GetCapability) *sym_Esys_GetCapability;
extern typeof(Esys_PCR_Read) *sym_Esys_PCR_Read;
extern typeof(Esys_CreatePrimary) *sym_Esys_CreatePrimary;
extern typeof(Esys_FlushContext) *sym_Esys_FlushContext;
extern typeof(Esys_Quote) *sym_Esys_Quote;
extern typeof(Esys_TR_FromTPMPublic) *sym_Esys_TR_FromTPMPublic;
extern typeof(Esys_TR_Close) *sym_Esys_TR_Close;
extern typeof(Esys_ReadPublic) *sym_Esys_ReadPublic;
extern typeof(Esys_NV_ReadPublic) *sym_Esys_NV_ReadPublic;
extern typeof(Esys_NV_Read) *sym_Esys_NV_Read;
extern typeof(Esys_StartAuthSession) *sym_Esys_StartAuthSession;
extern typeof(Esys_PolicySecret) *sym_Esys_PolicySecret;
extern typeof(Esys_ActivateCredential) *sym_Esys_ActivateCredential;
extern typeof(Tss2_TctiLdr_Initialize) *sym_Tss2_TctiLdr_Initialize;
extern typeof(Tss2_TctiLdr_Finalize) *sym_Tss2_TctiLdr_Finalize;
extern typeof(Tss2_MU_TPM2B_PUBLIC_Marshal) *sym_Tss2_MU_TPM2B_PUBLIC_Marshal;
extern typeof(Tss2_MU_TPMT_SIGNATURE_Marshal) *sym_Tss2_MU_TPMT_SIGNATURE_Marshal;
extern typeof(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal) *sym_Tss2_MU_TPM2B_ID_OBJECT_Unmarshal;
extern typeof(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal)
        *sym_Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal;

/* 0 when all three libraries are loaded and the sym_ pointers set; -ELIBACC/-ELIBBAD (dl.h). */
int vt_dl_tss2(void);
/* For messages after vt_dl_tss2() failed: e.g. "libtss2-esys.so.0 not installed". */
const char *vt_dl_tss2_error(char *buf, size_t size);
