/* memory-test.c - a query-uintr reply near the QMP size cap must be
 * parsed without holding many times its size in memory.
 *
 * A child process plays QEMU on a unix socket and sends a reply of
 * about 15 MiB (vCPUs with 256 valid UITT entries each, every one with
 * its target UPID, as QEMU's uitt-cap allows).  The parent receives it
 * through the real QMP socket client (QmpStream: bytes are handed to
 * yajl as they arrive and dropped, the events decoded as they come),
 * and measures its peak RSS growth (getrusage ru_maxrss against the RSS
 * before).  The parent never holds the reply text itself, only one 4
 * KiB read chunk, nor a tree of it: only the decoded state.
 *
 * Prints "memory: ..." and exits 1 when the growth exceeds
 * MEMORY_BOUND times the reply size.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmp-stream.h"
#include "qmp.h"
#include "uintr-state.h"

/* Measured: 0.5 x (yajl 2.1.0 on Debian 12; json-c's tree, before the
 * reply was decoded by events, took about 10 x).  The reply goes from
 * each 4 KiB read chunk through yajl's callbacks straight into the
 * decoded state (uintr-stream.h): ~150 bytes of UintrUitte for every
 * ~330 bytes of text, plus the vCPUs; no text, no tree. */
#define MEMORY_BOUND 1.0
#define UITT_ENTRIES 256

static void append_upid(GString *s, guint64 addr, unsigned apic)
{
    guint64 status = (G_GUINT64_CONSTANT(0xec) << 16) | ((guint64)apic << 32);

    g_string_append_printf(s, "{\"address\": %" G_GUINT64_FORMAT ", "
                           "\"phys-address\": %" G_GUINT64_FORMAT ", "
                           "\"status\": %" G_GUINT64_FORMAT ", \"on\": false, "
                           "\"sn\": false, \"nv\": 236, \"ndst\": %u, "
                           "\"pir\": 0, \"reserved\": 0}", addr,
                           addr & G_GUINT64_CONSTANT(0xffffffff), status, apic);
}

static GString *make_reply(size_t limit)
{
    GString *s = g_string_new("{\"return\": [");

    for (unsigned cpu = 0;; cpu++) {
        guint64 pd = 0xffff888000000000ull + ((guint64)cpu << 20);
        guint64 tt = pd + 0x1000;
        size_t start = s->len;

        g_string_append_printf(s, "%s{\"cpu-index\": %u, \"qom-path\": "
            "\"/machine/unattached/device[%u]\", \"apic-id\": %u, "
            "\"apic-mode\": \"x2apic\", \"cpl\": 3, \"uintr\": true, "
            "\"cr4-uintr\": true, \"uif\": true, \"xcr0\": 7, \"xss\": 16384, "
            "\"msrs\": {\"rr\": 0, \"handler\": 4198400, \"stackadjust\": 128, "
            "\"misc\": %" G_GUINT64_FORMAT ", \"pd\": %" G_GUINT64_FORMAT ", "
            "\"tt\": %" G_GUINT64_FORMAT "}, \"stack-adjust-load\": false, "
            "\"uittsz\": %u, \"uinv\": 236, \"uitt-address\": %" G_GUINT64_FORMAT
            ", \"uitt-valid\": true, \"upid\": ", cpu ? ", " : "", cpu, cpu,
            cpu, (G_GUINT64_CONSTANT(0xec) << 32) | (UITT_ENTRIES - 1), pd, tt | 1,
            UITT_ENTRIES - 1, tt);
        append_upid(s, pd, cpu);
        g_string_append(s, ", \"uitt\": [");
        for (unsigned i = 0; i < UITT_ENTRIES; i++) {
            g_string_append_printf(s, "%s{\"index\": %u, \"address\": %"
                                   G_GUINT64_FORMAT ", \"phys-address\": %"
                                   G_GUINT64_FORMAT ", \"valid\": true, "
                                   "\"uv\": %u, \"upid-address\": %"
                                   G_GUINT64_FORMAT ", \"reserved\": 0, "
                                   "\"upid\": ", i ? ", " : "", i,
                                   tt + i * 16, (tt + i * 16) & G_GUINT64_CONSTANT(0xffffffff),
                                   i % 64, pd);
            append_upid(s, pd, cpu);
            g_string_append(s, "}");
        }
        g_string_append(s, "], \"uitt-cap\": 256, \"uitt-truncated\": false}");
        if (s->len + (s->len - start) + 64 > limit)
            break;
    }
    g_string_append(s, "]}\r\n");
    return s;
}

/* The fake QEMU: greeting, capabilities, then the big reply. */
static void serve(int listen_fd, int size_pipe)
{
    g_autoptr(GString) reply = make_reply(QMP_MAX_MESSAGE - 64 * 1024);
    const char *greeting = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";
    const char *caps = "{\"return\": {}}\r\n";
    char buf[4096];
    int fd = accept(listen_fd, NULL, NULL);
    size_t len = reply->len;

    if (fd < 0 || write(size_pipe, &len, sizeof(len)) != sizeof(len))
        _exit(2);
    if (write(fd, greeting, strlen(greeting)) < 0 || read(fd, buf, sizeof(buf)) <= 0 ||
        write(fd, caps, strlen(caps)) < 0 || read(fd, buf, sizeof(buf)) <= 0)
        _exit(2);
    for (size_t off = 0; off < reply->len;) {
        ssize_t n = write(fd, reply->str + off, reply->len - off);

        if (n <= 0)
            _exit(2);
        off += (size_t)n;
    }
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    _exit(0);
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void)
{
    g_autofree char *dir = g_dir_make_tmp("uintrctl-mem-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) vcpus = NULL;
    QmpTransport *t;
    struct rusage ru;
    int listen_fd, pipefd[2], status = 0;
    long before, growth;
    size_t len = 0;
    pid_t pid;
    double ratio;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr,
                              sizeof(addr)) < 0 ||
        listen(listen_fd, 1) < 0 || pipe(pipefd) < 0) {
        perror("memory-test: socket");
        return 1;
    }
    pid = fork();
    if (pid == 0)
        serve(listen_fd, pipefd[1]);
    close(listen_fd);
    before = rss_kib();
    t = qmp_socket_open(path, 60000, &err);
    if (t)
        vcpus = uintr_state_query(t, &err);
    qmp_transport_free(t);
    getrusage(RUSAGE_SELF, &ru);
    waitpid(pid, &status, 0);
    unlink(path);
    rmdir(dir);
    if (read(pipefd[0], &len, sizeof(len)) != sizeof(len) || !vcpus) {
        fprintf(stderr, "memory-test: %s\n", err ? err->message : "no reply");
        return 1;
    }
    growth = ru.ru_maxrss - before;
    ratio = (double)growth * 1024 / (double)len;
    printf("memory: query-uintr reply of %zu bytes (%u vCPUs x %d UITT entries, "
           "cap %u): peak RSS growth %ld KiB = %.1f x the reply (bound %.1f x)\n",
           len, vcpus->len, UITT_ENTRIES, QMP_MAX_MESSAGE, growth, ratio,
           MEMORY_BOUND);
    if (len < QMP_MAX_MESSAGE / 10 * 9 || len > QMP_MAX_MESSAGE) {
        printf("memory: FAIL: the reply is not near the cap\n");
        return 1;
    }
    if (ratio > MEMORY_BOUND) {
        printf("memory: FAIL: more than %.1f x the reply\n", MEMORY_BOUND);
        return 1;
    }
    printf("memory: 1 passed, 0 failed\n");
    return 0;
}
