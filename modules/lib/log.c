/* Logging to stderr, with "<N>" priority prefixes when journald reads us. */
#include <stdarg.h>
#include <stdint.h>
#include "log.h"

static int log_level = LOG_NOTICE;
static bool log_journal;

void vt_log_set_level(int level)
{
        log_level = level;
}

int vt_log_get_level(void)
{
        return log_level;
}

void vt_log_more(void)
{
        log_level = log_level < LOG_INFO ? LOG_INFO : LOG_DEBUG;
}

void vt_log_set_journal(bool on)
{
        log_journal = on;
}

void vt_log_init_from_env(void)
{
        log_journal = getenv("JOURNAL_STREAM") != NULL;
        const char *l = getenv("VIRTUNE_LOG_LEVEL");
        if (l && *l >= '0' && *l <= '7' && l[1] == '\0')
                log_level = *l - '0';
}

void vt_logv(int level, int err, const char *fmt, va_list ap)
{
        if (level > log_level)
                return;
        char msg[2048];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (log_journal)
                fprintf(stderr, "<%d>", level);
        else if (level <= LOG_ERR)
                fputs("error: ", stderr);
        else if (level == LOG_WARNING)
                fputs("warning: ", stderr);
        /* Messages quote paths, policy values and guests' words: nothing raw to a terminal. */
        vt_fputs_term(stderr, msg, SIZE_MAX);
        if (err > 0)
                fprintf(stderr, ": %s", vt_strerror(-err));
        fputc('\n', stderr);
}

void vt_log(int level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vt_logv(level, 0, fmt, ap);
        va_end(ap);
}

int vt_log_errno(int level, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vt_logv(level, r < 0 ? -r : 0, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}
