/* A TPM public key as DER SubjectPublicKeyInfo and PEM (hand-built DER: the guest needs no
 * libcrypto). */
#include "codec.h"
#include "tpm2_pub.h"

/* A growing DER buffer; only what SubjectPublicKeyInfo needs. Lengths fit in 2 bytes. */
struct der {
        uint8_t buf[1200];
        size_t n;
};

static uint8_t *der_put(struct der *d, const void *p, size_t len)
{
        if (d->n + len > sizeof(d->buf))
                return NULL;
        memcpy(d->buf + d->n, p, len);
        d->n += len;
        return d->buf + d->n - len;
}

/* tag + length + content (content already in c). */
static int der_tlv(struct der *d, uint8_t tag, const uint8_t *c, size_t len)
{
        uint8_t hdr[4] = {tag};
        size_t h = 2;
        if (len < 128)
                hdr[1] = (uint8_t)len;
        else if (len < 256)
                hdr[1] = 0x81, hdr[2] = (uint8_t)len, h = 3;
        else if (len < 65536)
                hdr[1] = 0x82, hdr[2] = (uint8_t)(len >> 8), hdr[3] = (uint8_t)len, h = 4;
        else
                return -E2BIG;
        if (!der_put(d, hdr, h) || (len && !der_put(d, c, len)))
                return -E2BIG;
        return 0;
}

/* An unsigned big-endian INTEGER (leading zeros dropped, a 0x00 added when the top bit is set). */
static int der_uint(struct der *d, const uint8_t *p, size_t len)
{
        while (len > 1 && *p == 0)
                p++, len--;
        uint8_t tmp[520];
        size_t n = 0;
        if (len + 1 > sizeof(tmp))
                return -E2BIG;
        if (len == 0 || (p[0] & 0x80))
                tmp[n++] = 0;
        memcpy(tmp + n, p, len);
        return der_tlv(d, 0x02, tmp, n + len);
}

static const uint8_t oid_rsa[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                  0x0d, 0x01, 0x01, 0x01, 0x05, 0x00}; /* + NULL */
static const uint8_t oid_ec[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const struct {
        TPM2_ECC_CURVE curve;
        uint8_t oid[10];
        size_t oid_len;
        size_t size;
        const char *name; /* OpenSSL's group name */
} curves[] = {
        {TPM2_ECC_NIST_P256,
         {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07},
         10,
         32,
         "prime256v1"},
        {TPM2_ECC_NIST_P384, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7, 48, "secp384r1"},
};

/* SEQUENCE { SEQUENCE { alg... }, BIT STRING { key } } */
static int spki(const uint8_t *alg, size_t alg_len, const uint8_t *key, size_t key_len,
                uint8_t **ret, size_t *ret_len)
{
        struct der a = {0}, bits = {0}, out = {0};
        uint8_t zero = 0;
        if (der_tlv(&a, 0x30, alg, alg_len) < 0 || !der_put(&bits, &zero, 1) ||
            !der_put(&bits, key, key_len) || der_tlv(&a, 0x03, bits.buf, bits.n) < 0 ||
            der_tlv(&out, 0x30, a.buf, a.n) < 0)
                return -E2BIG;
        uint8_t *p = malloc(out.n);
        if (!p)
                return -ENOMEM;
        memcpy(p, out.buf, out.n);
        *ret = p;
        *ret_len = out.n;
        return 0;
}

static int ecc_curve(const TPMT_PUBLIC *pub)
{
        for (size_t i = 0; i < ARRAY_SIZE(curves); i++)
                if (curves[i].curve == pub->parameters.eccDetail.curveID)
                        return (int)i;
        return -EOPNOTSUPP;
}

int vt_tpm2_ecc_point(const TPMT_PUBLIC *pub, uint8_t point[VT_TPM2_ECC_POINT_MAX], size_t *len,
                      const char **curve)
{
        int c = pub->type == TPM2_ALG_ECC ? ecc_curve(pub) : -EOPNOTSUPP;
        if (c < 0)
                return c;
        size_t sz = curves[c].size;
        const TPMS_ECC_POINT *pt = &pub->unique.ecc;
        if (pt->x.size > sz || pt->y.size > sz)
                return -EINVAL;
        /* the TPM may drop leading zero bytes; the point needs them back */
        memset(point, 0, 1 + 2 * sz);
        point[0] = 0x04;
        memcpy(point + 1 + sz - pt->x.size, pt->x.buffer, pt->x.size);
        memcpy(point + 1 + 2 * sz - pt->y.size, pt->y.buffer, pt->y.size);
        *len = 1 + 2 * sz;
        if (curve)
                *curve = curves[c].name;
        return 0;
}

static int ecc_der(const TPMT_PUBLIC *pub, uint8_t **ret, size_t *ret_len)
{
        uint8_t point[VT_TPM2_ECC_POINT_MAX], alg[32];
        size_t len;
        int r = vt_tpm2_ecc_point(pub, point, &len, NULL);
        if (r < 0)
                return r;
        int c = ecc_curve(pub);
        memcpy(alg, oid_ec, sizeof(oid_ec));
        memcpy(alg + sizeof(oid_ec), curves[c].oid, curves[c].oid_len);
        return spki(alg, sizeof(oid_ec) + curves[c].oid_len, point, len, ret, ret_len);
}

static int rsa_der(const TPMT_PUBLIC *pub, uint8_t **ret, size_t *ret_len)
{
        uint32_t e =
                pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent : 65537;
        uint8_t eb[4] = {e >> 24, e >> 16 & 0xff, e >> 8 & 0xff, e & 0xff};
        struct der ints = {0}, key = {0};
        if (pub->unique.rsa.size == 0 || pub->unique.rsa.size > TPM2_MAX_RSA_KEY_BYTES)
                return -EINVAL;
        int r = der_uint(&ints, pub->unique.rsa.buffer, pub->unique.rsa.size);
        if (r >= 0)
                r = der_uint(&ints, eb, sizeof(eb));
        if (r >= 0)
                r = der_tlv(&key, 0x30, ints.buf, ints.n);
        if (r < 0)
                return r;
        return spki(oid_rsa, sizeof(oid_rsa), key.buf, key.n, ret, ret_len);
}

int vt_tpm2_pub_to_der(const TPMT_PUBLIC *pub, uint8_t **ret, size_t *ret_len)
{
        if (pub->type == TPM2_ALG_ECC)
                return ecc_der(pub, ret, ret_len);
        if (pub->type == TPM2_ALG_RSA)
                return rsa_der(pub, ret, ret_len);
        return -EOPNOTSUPP;
}

int vt_tpm2_pub_to_pem(const TPMT_PUBLIC *pub, char **ret)
{
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        int r = vt_tpm2_pub_to_der(pub, &der, &len);
        if (r < 0)
                return r;
        _cleanup_free_ char *b64 = vt_base64_encode(der, len);
        if (!b64)
                return -ENOMEM;
        size_t n = strlen(b64);
        char *pem = malloc(n + n / 64 + 64);
        if (!pem)
                return -ENOMEM;
        char *o = stpcpy(pem, "-----BEGIN PUBLIC KEY-----\n");
        for (size_t i = 0; i < n; i += 64) {
                size_t k = n - i < 64 ? n - i : 64;
                memcpy(o, b64 + i, k);
                o += k;
                *o++ = '\n';
        }
        strcpy(o, "-----END PUBLIC KEY-----\n");
        *ret = pem;
        return 0;
}
