/* Hex and base64 text for binary data that travels in JSON (TPM blobs, event logs, nonces). */
#pragma once

#include <stdint.h>
#include "util.h"

/* Lower-case hex of len bytes; caller frees; NULL on ENOMEM. */
char *vt_hex_encode(const uint8_t *buf, size_t len);
/* Decodes hex (even length, no spaces) into a new buffer; -EINVAL on bad input. */
int vt_hex_decode(const char *hex, uint8_t **ret, size_t *ret_len);
/* Standard base64 with padding, no line breaks; caller frees. */
char *vt_base64_encode(const uint8_t *buf, size_t len);
/* Decodes standard base64 (padding optional, no whitespace); -EINVAL on anything else. */
int vt_base64_decode(const char *s, uint8_t **ret, size_t *ret_len);
