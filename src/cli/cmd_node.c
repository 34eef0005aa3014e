/*
 * cmd_node.c: `slaledger node --config FILE [--listen HOST:PORT]`: runs a node until SIGINT or
 * SIGTERM, then stops it gracefully (the block in flight is committed, ledgers close cleanly)
 * and exits 0. Once the API listens it prints one line, "slaledger node: listening on
 * http://HOST:PORT", so scripts that asked for port 0 learn the port. The signals are blocked
 * before any thread starts and taken with sigwait, so no handler runs inside library code.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "slaledger/node.h"

#include "cli.h"

static void node_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger node --config FILE [--listen HOST:PORT]\n\n"
            "Runs the node the config file describes (docs/node-config.md) until SIGINT or\n"
            "SIGTERM. --listen overrides the config's listen address (port 0: any free port).\n"
            "Exit: 0 after a clean stop, 1 for a bad config, 3 for unreadable files or a data\n"
            "directory another node holds.\n");
}

int sl__cmd_node(int argc, char **argv)
{
    const char *config = NULL, *listen = NULL;
    const sl__opt opts[] = {{"--config", &config, NULL}, {"--listen", &listen, NULL}};
    const sl__cli_spec spec = {"node", node_usage, opts, 2, 0, 0};
    int nargs, rc = sl__cli_parse(&spec, argc, argv, &nargs);
    if (rc >= 0)
        return rc;
    if (!config) {
        fprintf(stderr, "slaledger node: --config is required\n");
        node_usage(stderr);
        return SL_EXIT_USAGE;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    sl_node *n;
    sl_error err = {0};
    if ((rc = sl_node_start(config, listen, &n, &err))) {
        sl__cli_error("node", config, &err);
        return rc == SL_EIO || rc == SL_ENOENT || rc == SL_EBUSY ? SL_EXIT_IO : SL_EXIT_INVALID;
    }
    printf("slaledger node: listening on http://%s:%u\n", sl_node_host(n),
           (unsigned)sl_node_port(n));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    /* Through the node's logger, so that in JSON mode every line on stderr is JSON. */
    sl_node_log_info(n, "signal received", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sl_node_stop(n);
    return SL_EXIT_OK;
}
