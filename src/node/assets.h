/*
 * assets.h: the web console's files, embedded into the binary at CMake configure time from
 * web/static/ and uPlot's distribution (web/node_modules/uplot/dist) as one generated table.
 * Immutable; read by console.c from any thread.
 */
#ifndef SL_NODE_ASSETS_H
#define SL_NODE_ASSETS_H

#include <stddef.h>

typedef struct sl__asset {
    const char *name; /* "index.html", "vendor/uPlot.iife.min.js" */
    const unsigned char *data;
    size_t len;
} sl__asset;

/** Every embedded file, ended by an entry whose name is NULL. */
extern const sl__asset sl__assets[];

#endif
