/* Logging: one global level, plain or journald "<N>" prefixes; the caller who knows the context
 * logs. */
#pragma once

#include <syslog.h>
#include "util.h"

void vt_log_set_level(int level);
int vt_log_get_level(void);
/* Use "<N>" priority prefixes (stderr is read by journald). Decided from $JOURNAL_STREAM. */
void vt_log_set_journal(bool on);
void vt_log_init_from_env(void);
/* One more -v: info after the default, debug after that. */
void vt_log_more(void);

void vt_logv(int level, int err, const char *fmt, va_list ap) _printf_(3, 0);
void vt_log(int level, const char *fmt, ...) _printf_(2, 3);
/* Logs with strerror(-r) appended (when r < 0) and returns r (negative), systemd style. */
int vt_log_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...)            vt_log(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)             vt_log(LOG_INFO, __VA_ARGS__)
#define log_notice(...)           vt_log(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)          vt_log(LOG_WARNING, __VA_ARGS__)
#define log_error(...)            vt_log(LOG_ERR, __VA_ARGS__)
#define log_error_errno(r, ...)   vt_log_errno(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) vt_log_errno(LOG_WARNING, (r), __VA_ARGS__)
#define log_debug_errno(r, ...)   vt_log_errno(LOG_DEBUG, (r), __VA_ARGS__)
