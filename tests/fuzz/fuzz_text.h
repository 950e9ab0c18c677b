/* The fuzz oracles' check of output text, written apart from vt_fputs_term. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * No control character but the newline; in what is meant for a terminal (human), no DEL or C1
 * control (U+0080-U+009F as UTF-8, as vt_fputs_term has them) either. Aborts on one.
 */
static inline void fuzz_check_text(const char *s, size_t n, bool human)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c < 0x20 && c != '\n') ||
                    (human &&
                     (c == 0x7f || (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                                    (unsigned char)s[i + 1] <= 0x9f))))
                        abort();
        }
}
