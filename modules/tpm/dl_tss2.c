/* The tss2 stack (esys, tctildr, mu), opened on first use: what modules/tpm2.c calls. */
#include "dl.h"
#include "dl_tss2.h"
#include "util.h"

typeof(Esys_Initialize) *sym_Esys_Initialize;
typeof(Esys_Finalize) *sym_Esys_Finalize;
typeof(Esys_Free) *sym_Esys_Free;
typeof(Esys_Startup) *sym_Esys_Startup;
typeof(Esys_GetCapability) *sym_Esys_GetCapability;
typeof(Esys_PCR_Read) *sym_Esys_PCR_Read;
typeof(Esys_CreatePrimary) *sym_Esys_CreatePrimary;
typeof(Esys_FlushContext) *sym_Esys_FlushContext;
typeof(Esys_Quote) *sym_Esys_Quote;
typeof(Esys_TR_FromTPMPublic) *sym_Esys_TR_FromTPMPublic;
typeof(Esys_TR_Close) *sym_Esys_TR_Close;
typeof(Esys_ReadPublic) *sym_Esys_ReadPublic;
typeof(Esys_NV_ReadPublic) *sym_Esys_NV_ReadPublic;
typeof(Esys_NV_Read) *sym_Esys_NV_Read;
typeof(Esys_StartAuthSession) *sym_Esys_StartAuthSession;
typeof(Esys_PolicySecret) *sym_Esys_PolicySecret;
typeof(Esys_ActivateCredential) *sym_Esys_ActivateCredential;
typeof(Tss2_TctiLdr_Initialize) *sym_Tss2_TctiLdr_Initialize;
typeof(Tss2_TctiLdr_Finalize) *sym_Tss2_TctiLdr_Finalize;
typeof(Tss2_MU_TPM2B_PUBLIC_Marshal) *sym_Tss2_MU_TPM2B_PUBLIC_Marshal;
typeof(Tss2_MU_TPMT_SIGNATURE_Marshal) *sym_Tss2_MU_TPMT_SIGNATURE_Marshal;
typeof(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal) *sym_Tss2_MU_TPM2B_ID_OBJECT_Unmarshal;
typeof(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal) *sym_Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal;

static const struct vt_dl_sym esys_syms[] = {
        VT_DL_SYM(Esys_Initialize),    VT_DL_SYM(Esys_Finalize),
        VT_DL_SYM(Esys_Free),          VT_DL_SYM(Esys_Startup),
        VT_DL_SYM(Esys_GetCapability), VT_DL_SYM(Esys_PCR_Read),
        VT_DL_SYM(Esys_CreatePrimary), VT_DL_SYM(Esys_FlushContext),
        VT_DL_SYM(Esys_Quote),         VT_DL_SYM(Esys_TR_FromTPMPublic),
        VT_DL_SYM(Esys_TR_Close),      VT_DL_SYM(Esys_NV_ReadPublic),
        VT_DL_SYM(Esys_NV_Read),       VT_DL_SYM(Esys_StartAuthSession),
        VT_DL_SYM(Esys_PolicySecret),  VT_DL_SYM(Esys_ActivateCredential),
        VT_DL_SYM(Esys_ReadPublic),
};
static const struct vt_dl_sym tctildr_syms[] = {
        VT_DL_SYM(Tss2_TctiLdr_Initialize),
        VT_DL_SYM(Tss2_TctiLdr_Finalize),
};
static const struct vt_dl_sym mu_syms[] = {
        VT_DL_SYM(Tss2_MU_TPM2B_PUBLIC_Marshal),
        VT_DL_SYM(Tss2_MU_TPMT_SIGNATURE_Marshal),
        VT_DL_SYM(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal),
        VT_DL_SYM(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal),
};

static struct vt_dl_lib tss2_libs[] = {
        VT_DL_LIB("libtss2-esys.so.0", esys_syms),
        VT_DL_LIB("libtss2-tctildr.so.0", tctildr_syms),
        VT_DL_LIB("libtss2-mu.so.0", mu_syms),
};

int vt_dl_tss2(void)
{
        return vt_dl_open_all(tss2_libs, ARRAY_SIZE(tss2_libs));
}

const char *vt_dl_tss2_error(char *buf, size_t size)
{
        return vt_dl_error_all(tss2_libs, ARRAY_SIZE(tss2_libs), buf, size);
}
