/*
 * targets.h: starting and stopping tool_targets (tests/tools/targets.c), the loopback HTTP(S)
 * targets of the oracle tests and bench, and running short helper commands (openssl) with a
 * time bound. A started tool dies with the thread that started it (PR_SET_PDEATHSIG), so a
 * crashed test leaves nothing behind; targets_stop ends it with SIGTERM, then SIGKILL.
 * Any failure to start prints why and returns -1: the caller decides whether that is fatal.
 * Test scaffolding: single-threaded use.
 */
#ifndef SL_TEST_TARGETS_H
#define SL_TEST_TARGETS_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct targets {
    pid_t pid;
    unsigned port;
} targets;

static inline long long targets_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to timeout_ms for pid; 1 when it ended (status in *st), 0 when still running. */
static inline int targets_wait(pid_t pid, int *st, long long timeout_ms)
{
    long long until = targets_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 1;
        if (targets_now_ms() >= until)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Forks and execs argv (execvp) with stdout on a pipe (*out_fd), or with stdout and stderr on
 * /dev/null when out_fd is NULL; the child dies with the calling thread. The pid or -1. */
static inline pid_t targets_spawn(char *const argv[], int *out_fd)
{
    int fd[2] = {-1, -1};
    if (out_fd && pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int o = out_fd ? fd[1] : open("/dev/null", O_WRONLY);
        dup2(o, STDOUT_FILENO);
        if (!out_fd)
            dup2(o, STDERR_FILENO);
        if (out_fd)
            close(fd[0]);
        execvp(argv[0], argv);
        fprintf(stderr, "targets: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (out_fd) {
        close(fd[1]);
        if (pid < 0)
            close(fd[0]);
        else
            *out_fd = fd[0];
    }
    return pid;
}

/* Runs argv (argv[0] a path or a name in PATH) with a time bound; its exit status, or -1
 * (killed or failed). */
static inline int targets_run(char *const argv[], int timeout_s)
{
    int st = 0;
    pid_t pid = targets_spawn(argv, NULL);
    if (pid < 0)
        return -1;
    if (!targets_wait(pid, &st, timeout_s * 1000LL)) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads one line from fd within timeout_ms into line[cap]; 0 or -1. */
static inline int targets_read_line(int fd, char *line, size_t cap, long long timeout_ms)
{
    long long until = targets_now_ms() + timeout_ms;
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = until - targets_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return 0;
}

/*
 * Starts exe (tool_targets) on 127.0.0.1:0, over TLS when cert and key are given, and reads
 * its port. 0 or -1.
 */
static inline int targets_start(targets *t, const char *exe, const char *cert, const char *key)
{
    char *argv[] = {(char *)exe, "--port", "0", NULL, NULL, NULL, NULL};
    char line[128];
    int fd = -1, ok = 0;

    if (cert && key) {
        argv[3] = "--tls";
        argv[4] = (char *)cert;
        argv[5] = (char *)key;
    }
    t->port = 0;
    t->pid = targets_spawn(argv, &fd);
    if (t->pid < 0) {
        fprintf(stderr, "targets: cannot start %s\n", exe);
        return -1;
    }
    ok = targets_read_line(fd, line, sizeof(line), 10000) == 0 &&
         sscanf(line, "listening on 127.0.0.1:%u", &t->port) == 1 && t->port > 0;
    close(fd);
    if (!ok) {
        fprintf(stderr, "targets: %s did not say where it listens\n", exe);
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
        t->pid = -1;
        return -1;
    }
    return 0;
}

/* Stops it: SIGTERM, then SIGKILL after 5 s. Returns its exit status (-1 when killed). */
static inline int targets_stop(targets *t)
{
    int st = 0;
    if (t->pid <= 0)
        return -1;
    kill(t->pid, SIGTERM);
    if (!targets_wait(t->pid, &st, 5000)) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &st, 0);
    }
    t->pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A loopback port nothing listens on: bound, then closed (no other test takes it in between
 * in practice: the kernel hands out ephemeral ports in sequence). 0 on failure. */
static inline unsigned targets_closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    unsigned port = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(s, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

#endif
