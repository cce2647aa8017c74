/*
 * server/restart.c: re-exec of this process for a restart (restart.h).
 *
 * Why exec and not fork: a supervisor (systemd's Type=simple or exec,
 * docker's PID 1) follows one PID; a child would be an orphan it does not
 * know. Why /proc/self/exe: the binary this process runs, even if the file
 * was replaced or removed since (an upgrade restarts with `systemctl
 * restart`, which starts the new file).
 */
#include "util/base.h"

#include "server/restart.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "obs/log.h"
#include "util/err.h"

#define CMDLINE_MAX (1u << 20) /* bytes of /proc/self/cmdline read at most */

/* The argv this process was started with, NULL-terminated, pointing into `text`. */
static int
read_cmdline(struct buf *text, char ***argv, struct buf *errmsg)
{
    char tmp[4096], **v;
    size_t n = 0, i;
    ssize_t got;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        buf_addf(errmsg, "cannot read /proc/self/cmdline: %s", strerror(errno));
        return -ERR_IO;
    }
    while (text->len < CMDLINE_MAX && (got = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(text, tmp, (size_t)got);
    close(fd);
    for (i = 0; i < text->len; i++)
        n += text->ptr[i] == '\0';
    if (n == 0 || text->ptr[text->len - 1] != '\0') {
        buf_addf(errmsg, "/proc/self/cmdline is empty or truncated");
        return -ERR_IO;
    }
    v = xcalloc(n + 1, sizeof(*v));
    for (i = 0, n = 0; i < text->len; i += strlen(text->ptr + i) + 1)
        v[n++] = text->ptr + i;
    *argv = v;
    return 0;
}

/*
 * Drops the service signals still queued (server.c: another restart or
 * stop asked while this one stopped; it was acknowledged, and this restart
 * does it), so that the new server does not stop at once. A SIGTERM from
 * outside is another signal and stays pending: the new server stops
 * gracefully.
 */
static void
drop_service_signals(void)
{
    struct timespec zero = { 0, 0 };
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SERVER_SERVICE_SIGNAL);
    while (sigtimedwait(&set, NULL, &zero) == SERVER_SERVICE_SIGNAL)
        ;
}

/* Marks every descriptor above 2 close-on-exec; returns how many were not. */
static unsigned
cloexec_all(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    unsigned n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        int fd, flags;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        fd = (int)strtol(e->d_name, NULL, 10);
        if (fd <= 2 || fd == dirfd(d))
            continue;
        flags = fcntl(fd, F_GETFD);
        if (flags < 0 || (flags & FD_CLOEXEC))
            continue;
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        n++;
    }
    closedir(d);
    return n;
}

int
server_restart_exec(struct buf *errmsg)
{
    struct buf text = BUF_INIT;
    char **argv = NULL;
    unsigned leaked;
    int rc = read_cmdline(&text, &argv, errmsg);

    if (rc < 0)
        goto out;
    drop_service_signals();
    leaked = cloexec_all();
    if (leaked) /* inherited from whoever started the server (server_close closes its own) */
        log_info(&(struct log_ctx){ .event = "restart_fds" },
                 "%u descriptors above 2 without close-on-exec, closed by the exec", leaked);
    log_info(&(struct log_ctx){ .event = "restart_exec" }, "restarting: exec of %s", argv[0]);
    fflush(stdout);
    fflush(stderr);
    execv("/proc/self/exe", argv);
    buf_addf(errmsg, "cannot exec /proc/self/exe: %s", strerror(errno));
    rc = -ERR_IO;
out:
    free(argv);
    buf_release(&text);
    return rc;
}
