/*
 * yaml.c: libfyaml's event stream -> a tree of sl__ynode with 1-based positions.
 *
 * libfyaml 0.7's document API does not expose where a mapping or sequence starts, so the tree
 * is built here from parser events, whose start marks are exact for every node. Scalars are
 * kept as text; plain empty, "~" and "null" scalars become SL__Y_NULL nodes. Only what an
 * agreement needs is accepted: one document, scalar mapping keys, no aliases, at most
 * SL__DEPTH_MAX levels of nesting (so the recursive release below is bounded). libfyaml's own
 * syntax errors are collected through a quiet fy_diag and reported as SL_EPARSE with
 * libfyaml's message, line and column.
 *
 * The input is parsed as YAML 1.2, of which JSON is a subset, so JSON documents need no mode
 * switch. Thread-safety: reentrant; each call owns its parser and diag objects.
 *
 * Memory is bounded by what libfyaml may read ahead, not by the depth check alone: a flow
 * collection ([...] or {...}) where a mapping key could start is scanned to its closing
 * bracket before the first event comes out (it might turn out to be a key), and libfyaml keeps
 * every token of it, some 350 bytes per byte of "[[[[". So the text is fed in small chunks and
 * libfyaml may read at most LOOKAHEAD_MAX bytes past the last event it produced; then the
 * input ends early, the events already scanned come out (so nesting past SL__DEPTH_MAX is
 * reported where it starts), and the document is refused as too long in one piece.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <libfyaml.h>

#include "slaledger/util.h"

#include "sla_int.h"

/* Bytes libfyaml may read past its last event, and the size of each piece fed to it. */
#define LOOKAHEAD_MAX (64u * 1024)
#define FEED_CHUNK    4096u

/* The text as libfyaml's input callback hands it out. */
typedef struct feeder {
    const char *p;
    size_t len;
    size_t off;               /* bytes handed out so far */
    size_t at_event;          /* off when the last event came out */
    int cut;                  /* the input was ended early: too long without an event */
    int cut_line, cut_column; /* the first event after the cut: where the long piece starts */
} feeder;

/* The tree under construction: the open collections, innermost last. */
typedef struct builder {
    sl__ctx *ctx;
    sl__ynode top; /* a holder sequence whose items are the documents' roots */
    sl__ynode *stack[SL__DEPTH_MAX + 1];
    size_t depth;
    int docs;
    int line, column; /* position of the last event, for events without one */
    feeder in;
} builder;

/* Frees what n owns, not n itself (n may live in its parent's kids array). */
static void node_release(sl__ynode *n)
{
    for (size_t i = 0; i < n->n; i++)
        node_release(&n->kids[i]);
    free(n->kids);
    free(n->text);
    memset(n, 0, sizeof(*n));
}

void sl__ynode_free(sl__ynode *n)
{
    if (!n)
        return;
    node_release(n);
    free(n);
}

/* Appends a zeroed child to parent; NULL when memory runs out. */
static sl__ynode *node_append(sl__ynode *parent)
{
    if (sl_reserve(&parent->kids, &parent->cap, parent->n + 1, sizeof(*parent->kids)))
        return NULL;
    memset(&parent->kids[parent->n], 0, sizeof(parent->kids[0]));
    return &parent->kids[parent->n++];
}

/* Moves the builder's position to the event's start mark, when it has one. */
static void take_position(builder *bd, struct fy_event *ev)
{
    const struct fy_mark *m = fy_event_start_mark(ev);

    if (m && m->line >= 0 && m->column >= 0) {
        bd->line = m->line + 1;
        bd->column = m->column + 1;
    }
}

static void report(builder *bd, int code, const char *msg)
{
    sl__ynode at = {.line = bd->line, .column = bd->column};
    sl__error(bd->ctx, &at, code, "", "%s", msg);
}

/* A new node for the current event, placed in the innermost open collection. */
static sl__ynode *node_new(builder *bd, sl__ytype type)
{
    sl__ynode *parent = bd->stack[bd->depth];
    sl__ynode *n;

    if (parent->type == SL__Y_MAP && parent->n % 2 == 0 && type != SL__Y_SCALAR &&
        type != SL__Y_NULL) {
        report(bd, SL_EPARSE, "a mapping key must be a plain string, found a collection");
        return NULL;
    }
    n = node_append(parent);
    if (!n) {
        sl__nomem(bd->ctx);
        return NULL;
    }
    n->type = type;
    n->line = bd->line;
    n->column = bd->column;
    return n;
}

static int is_null_text(const char *s, size_t len)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (strlen(nulls[i]) == len && memcmp(nulls[i], s, len) == 0)
            return 1;
    }
    return 0;
}

static int on_scalar(builder *bd, struct fy_event *ev)
{
    struct fy_token *tok = ev->scalar.value;
    size_t len = 0;
    const char *s = tok ? fy_token_get_text(tok, &len) : "";
    enum fy_node_style style = tok ? fy_event_get_node_style(ev) : FYNS_PLAIN;
    int plain = style == FYNS_PLAIN;
    sl__ynode *n;

    if (!s)
        s = "";
    n = node_new(bd, plain && is_null_text(s, len) ? SL__Y_NULL : SL__Y_SCALAR);
    if (!n)
        return -1;
    /* libfyaml marks a quoted scalar at its first character; point at the opening quote. */
    if ((style == FYNS_SINGLE_QUOTED || style == FYNS_DOUBLE_QUOTED) && n->column > 1)
        n->column--;
    n->text = sl_strndup(s, len);
    n->len = len;
    if (!n->text) {
        sl__nomem(bd->ctx);
        return -1;
    }
    return 0;
}

static int on_collection_start(builder *bd, sl__ytype type)
{
    sl__ynode *n;

    if (bd->depth >= SL__DEPTH_MAX) {
        sl__ynode at = {.line = bd->line, .column = bd->column};
        sl__error(bd->ctx, &at, SL_EPARSE, "",
                  "the document is nested too deeply for an agreement: more than %d levels of "
                  "mappings and lists",
                  SL__DEPTH_MAX);
        return -1;
    }
    n = node_new(bd, type);
    if (!n)
        return -1;
    bd->stack[++bd->depth] = n;
    return 0;
}

static int on_document_start(builder *bd)
{
    if (++bd->docs > 1) {
        report(bd, SL_EPARSE,
               "a second document starts here; an agreement file holds exactly one document");
        return -1;
    }
    return 0;
}

/* Adds one event (its position taken) to the tree; -1 stops the parse (the problem has been
 * reported). */
static int on_event(builder *bd, struct fy_event *ev)
{
    switch (ev->type) {
    case FYET_DOCUMENT_START:
        return on_document_start(bd);
    case FYET_MAPPING_START:
        return on_collection_start(bd, SL__Y_MAP);
    case FYET_SEQUENCE_START:
        return on_collection_start(bd, SL__Y_SEQ);
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        if (bd->depth > 0)
            bd->depth--;
        return 0;
    case FYET_SCALAR:
        return on_scalar(bd, ev);
    case FYET_ALIAS:
        /* The mark is after the '*'. */
        if (bd->column > 1)
            bd->column--;
        report(bd, SL_EPARSE,
               "aliases (*name) are not supported in agreement documents; "
               "write the value out");
        return -1;
    default:
        return 0;
    }
}

/* Length of the valid UTF-8 sequence at s[0..len) (1..4), or 0 when it is invalid: bad lead
 * or continuation bytes, overlong forms, surrogates or code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    size_t n = 0;

    if (s[0] < 0x80)
        n = 1;
    else if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    if (n == 0 || n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* The longest run of apostrophes accepted; see text_check. */
#define QUOTE_RUN_MAX 3

/*
 * Refuses what libfyaml 0.7.12 (Debian 12) mishandles, before it sees it:
 *  - text that is not UTF-8, or control characters other than tab, CR and LF: after '%' an
 *    invalid byte makes it loop forever, elsewhere it may end the stream early without an
 *    error, silently dropping the rest of the document;
 *  - four or more apostrophes in a row (two or more consecutive '' escapes): its atom
 *    iterator leaks memory on them (libfyaml issue #233, fixed after 0.7.12), and every node
 *    parses every proposed agreement.
 * Reports the first bad byte's position (column in characters).
 */
static int text_check(sl__ctx *c, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    sl__ynode at = {.line = 1, .column = 1};
    size_t n, quotes = 0;

    for (size_t i = 0; i < len; i += n, at.column++) {
        quotes = s[i] == '\'' ? quotes + 1 : 0;
        if (quotes > QUOTE_RUN_MAX) {
            sl__error(c, &at, SL_EPARSE, "",
                      "four or more apostrophes in a row are not supported; write the value in "
                      "double quotes");
            return SL_EPARSE;
        }
        n = utf8_len(s + i, len - i);
        if (n == 0) {
            sl__error(c, &at, SL_EPARSE, "",
                      "invalid UTF-8 byte 0x%02x; agreement documents are UTF-8 text", s[i]);
            return SL_EPARSE;
        }
        if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') || s[i] == 0x7f) {
            sl__error(c, &at, SL_EPARSE, "",
                      "control character 0x%02x is not allowed in an agreement document", s[i]);
            return SL_EPARSE;
        }
        if (s[i] == '\n') {
            at.line++;
            at.column = 0;
        }
    }
    return 0;
}

static void diag_discard_cb(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

/* A quiet diag object that collects libfyaml's errors instead of printing them. */
static struct fy_diag *diag_new(void)
{
    struct fy_diag_cfg cfg;
    struct fy_diag *diag;

    fy_diag_cfg_default(&cfg);
    cfg.fp = NULL;
    cfg.output_fn = diag_discard_cb;
    cfg.colorize = false;
    diag = fy_diag_create(&cfg);
    if (diag)
        fy_diag_set_collect_errors(diag, true);
    return diag;
}

/* Reports libfyaml's collected errors; at least one SL_EPARSE is always reported. */
static void report_syntax(builder *bd, struct fy_diag *diag)
{
    void *iter = NULL;
    struct fy_diag_error *e;
    size_t before = bd->ctx->errors;

    while ((e = fy_diag_errors_iterate(diag, &iter)) != NULL) {
        sl__ynode at = {.line = e->line > 0 ? e->line : bd->line,
                        .column = e->column > 0 ? e->column : bd->column};
        const char *msg = e->msg ? e->msg : "malformed input";
        /* The classic trap: an unquoted target such as >= 99.95% starts a folded scalar. */
        const char *hint = strstr(msg, "block scalar") || strstr(msg, "'>'")
                               ? " (a value starting with '>' or '<' must be quoted, e.g. "
                                 "target: \">= 99.95%\")"
                               : "";
        sl__error(bd->ctx, &at, SL_EPARSE, "", "YAML syntax error: %s%s", msg, hint);
    }
    if (bd->ctx->errors == before)
        report(bd, SL_EPARSE, "YAML syntax error: the document is malformed");
}

/* libfyaml's input callback: the next piece of the text, or 0 (the end) once libfyaml has read
 * LOOKAHEAD_MAX bytes without producing an event. */
static ssize_t feed_cb(void *user, void *buf, size_t count)
{
    feeder *f = user;
    size_t n = f->len - f->off;

    if (n > count)
        n = count;
    if (n > FEED_CHUNK)
        n = FEED_CHUNK;
    if (n > 0 && f->off + n > f->at_event + LOOKAHEAD_MAX) {
        f->cut = 1;
        return 0;
    }
    memcpy(buf, f->p + f->off, n);
    f->off += n;
    return (ssize_t)n;
}

/* Notes that an event came out: libfyaml may read on; the first after a cut marks the piece. */
static void event_seen(builder *bd)
{
    feeder *f = &bd->in;

    if (f->cut && f->cut_line == 0) {
        f->cut_line = bd->line;
        f->cut_column = bd->column;
    }
    f->at_event = f->off;
}

static void report_cut(builder *bd)
{
    sl__ynode at = {.line = bd->in.cut_line ? bd->in.cut_line : bd->line,
                    .column = bd->in.cut_line ? bd->in.cut_column : bd->column};
    sl__error(bd->ctx, &at, SL_EPARSE, "",
              "the parser read more than %u KiB from here without the end of a value, comment "
              "or flow collection ([...] or {...}); an agreement needs no piece that long",
              LOOKAHEAD_MAX / 1024);
}

/* Runs the parser over the text, feeding events to the builder. */
static int run_parser(builder *bd, struct fy_parser *fyp, struct fy_diag *diag)
{
    struct fy_event *ev;
    int stop = 0;

    while (!stop && (ev = fy_parser_parse(fyp)) != NULL) {
        take_position(bd, ev);
        event_seen(bd);
        stop = on_event(bd, ev) != 0;
        fy_parser_event_free(fyp, ev);
    }
    if (stop)
        return bd->ctx->nomem ? SL_ENOMEM : SL_EPARSE;
    /* A cut input ends early, so whatever libfyaml made of it is not the document. */
    if (bd->in.cut) {
        report_cut(bd);
        return SL_EPARSE;
    }
    if (fy_parser_get_stream_error(fyp)) {
        report_syntax(bd, diag);
        return SL_EPARSE;
    }
    return 0;
}

/* Runs libfyaml over checked text into bd's holder; 0 or a reported error code. */
static int parse_events(builder *bd, const char *text, size_t len)
{
    struct fy_parse_cfg cfg = {0};
    struct fy_diag *diag = diag_new();
    struct fy_parser *fyp = NULL;
    int rc = SL_ENOMEM;

    cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE;
    cfg.diag = diag;
    if (diag)
        fyp = fy_parser_create(&cfg);
    bd->in = (feeder){.p = text, .len = len};
    if (fyp && fy_parser_set_input_callback(fyp, &bd->in, feed_cb) == 0)
        rc = run_parser(bd, fyp, diag);
    else
        sl__nomem(bd->ctx);
    if (fyp)
        fy_parser_destroy(fyp);
    if (diag)
        fy_diag_destroy(diag);
    return rc;
}

int sl__yaml_load(sl__ctx *c, const char *text, size_t len, sl__ynode **root)
{
    builder bd = {.ctx = c, .top = {.type = SL__Y_SEQ}, .line = 1, .column = 1};
    int rc;

    *root = NULL;
    bd.stack[0] = &bd.top;
    if (len == 0)
        return 0; /* an empty stream has no document; the caller says so */
    rc = text_check(c, text, len);
    if (rc == 0)
        rc = parse_events(&bd, text, len);
    if (rc == 0 && bd.top.n > 0) {
        *root = malloc(sizeof(**root));
        if (*root) {
            /* Move the root out of the holder so that releasing the holder leaves it intact. */
            **root = bd.top.kids[0];
            bd.top.n = 0;
        } else {
            sl__nomem(c);
            rc = SL_ENOMEM;
        }
    }
    node_release(&bd.top);
    return rc;
}
