/*
 * sla_int.h: private declarations shared by the files of the sla subsystem.
 *
 * The parser works in three stages: yaml.c turns libfyaml's event stream into a small tree of
 * sl__ynode that keeps every node's 1-based line and column (libfyaml 0.7 has no public way to
 * ask a document node for its position); walk.c and values.c offer checked readers over that
 * tree that report problems into an sl__ctx; spec.c, services.c, oracles.c, objectives.c,
 * target.c and penalties.c build the sl_agreement_spec, and validate.c applies the rules that
 * span several fields; channel.c builds an sl_channel_spec from a channel document with the
 * same readers, node_config.c a node's configuration and secrets.c its secrets and tokens
 * documents. names.c holds the words of the format, free.c releases a spec.
 * Every reader reports what was expected and what was found, with the dotted field path, and
 * parsing goes on after an error so that one pass reports every problem.
 *
 * Ownership: the tree belongs to the caller of sl__yaml_load and is freed with sl__ynode_free.
 * Strings stored into the spec are fresh copies owned by the spec. Nothing here keeps global
 * state; all functions are reentrant.
 */
#ifndef SL_SLA_INT_H
#define SL_SLA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

#define SL__PATH_MAX  160 /* longest dotted field path built; sl_error.field truncates further */
#define SL__DEPTH_MAX 32  /* deepest nesting accepted in a document */

/* ---- the document tree (yaml.c) ---- */

typedef enum sl__ytype {
    SL__Y_NULL,   /* an absent value: empty, ~, null (plain) */
    SL__Y_SCALAR, /* any other scalar; its text is kept verbatim, never converted */
    SL__Y_MAP,
    SL__Y_SEQ,
} sl__ytype;

/** A node of a parsed document with the position where it starts. */
typedef struct sl__ynode {
    sl__ytype type;
    int line;   /* 1-based */
    int column; /* 1-based */
    char *text; /* scalars: the value, NUL-terminated; may hold NULs before len */
    size_t len;
    struct sl__ynode *kids; /* sequences: the items; maps: key, value, key, value, ... */
    size_t n;               /* entries used in kids (twice the pair count for maps) */
    size_t cap;
} sl__ynode;

/**
 * Parses text[0..len) as one YAML 1.2 (or JSON) document into a tree. On success returns 0 and
 * *root (the caller frees it with sl__ynode_free). On a syntax error returns SL_EPARSE after
 * reporting it (with libfyaml's message, line and column) through c; *root is NULL then.
 */
struct sl__ctx;
int sl__yaml_load(struct sl__ctx *c, const char *text, size_t len, sl__ynode **root);

/** Frees a tree built by sl__yaml_load. Accepts NULL. */
void sl__ynode_free(sl__ynode *n);

/* ---- diagnostics and checked readers (walk.c) ---- */

/** Where diagnostics go while a document is walked. */
typedef struct sl__ctx {
    sl_diags *diags; /* may be NULL: errors are still counted */
    size_t errors;   /* problems found, including those diags could not store */
    int first;       /* code of the first problem, 0 while there is none */
    int nomem;       /* an allocation failed; the result is SL_ENOMEM */
} sl__ctx;

/** One kind of document: its `kind:` and the parsers of its metadata and spec mappings, which
 * receive the kind's build state (whose first member is its sl__ctx). */
typedef struct sl__doc_kind {
    const char *kind; /* "Agreement", "Channel" */
    void (*metadata)(void *build, const sl__ynode *n, const char *path);
    void (*spec)(void *build, const sl__ynode *n, const char *path);
} sl__doc_kind;

/**
 * The frame every document shares (doc.c): loads text into a tree, checks the top-level keys,
 * apiVersion and kind, hands metadata and spec to k's parsers with build (whose first member
 * must be the sl__ctx that collects the problems), and frees the tree. Returns SL_ENOMEM, else
 * the first problem's code, else 0.
 */
int sl__doc_parse(void *build, const char *text, size_t len, const sl__doc_kind *k);

/**
 * The argument check every public parse function starts with: out (a pointer to the caller's
 * result pointer, which is cleared) must be given, and text unless len is 0. 0 to go on, or
 * SL_EINVAL reported through ctx ("no document given").
 */
int sl__doc_args(sl__ctx *ctx, const char *text, size_t len, void *out);

/** Records one problem at node `at` (position 0:0 when NULL) under the given field path. */
void sl__error(sl__ctx *c, const sl__ynode *at, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Records an allocation failure (once). */
void sl__nomem(sl__ctx *c);

/** Writes "parent.key" (or "key" when parent is empty) into buf[SL__PATH_MAX]. */
void sl__path_key(char *buf, const char *parent, const char *key);

/** Writes "parent[i]" into buf[SL__PATH_MAX]. */
void sl__path_index(char *buf, const char *parent, size_t i);

/** Room for a value quoted in a message. */
typedef struct sl__shown {
    char s[64];
} sl__shown;

/**
 * What a node is, for "found ..." in messages: "a mapping", "a list", "null", "nothing" (NULL)
 * or the scalar's text in quotes, shortened and with control characters replaced. The result
 * points into *buf or at a static string.
 */
const char *sl__found(const sl__ynode *n, sl__shown *buf);

/** Quotes s[0..len) into *buf the same way; returns buf->s. */
const char *sl__show(const char *s, size_t len, sl__shown *buf);

/**
 * Checks that n is a mapping whose keys are all in the NULL-terminated list `keys`, each at
 * most once. Reports a wrong type, unknown keys (listing the allowed ones) and duplicates.
 * Returns 1 when n is a mapping (even with bad keys), 0 when it is not.
 */
int sl__map_check(sl__ctx *c, const sl__ynode *n, const char *path, const char *const *keys);

/**
 * sl__map_check for a mapping that once allowed more fields: `retired` lists pairs {key, why,
 * ..., NULL}, and each such key found is reported at its position as removed, with why, rather
 * than as unknown.
 */
int sl__map_check_retired(sl__ctx *c, const sl__ynode *n, const char *path, const char *const *keys,
                          const char *const *retired);

/** The value of key in map n, or NULL when it is absent or null. */
const sl__ynode *sl__map_get(const sl__ynode *n, const char *key);

/** A field of a mapping: its value (NULL when absent or null) and its dotted path. */
typedef struct sl__field {
    const sl__ynode *node;
    char path[SL__PATH_MAX];
} sl__field;

/**
 * Looks up key in map (whose path is mpath) into *f. Returns 1 when the value is present and
 * not null. When it is missing and `required`, reports "missing required field" at the map.
 */
int sl__field_get(sl__ctx *c, const sl__ynode *map, const char *mpath, const char *key,
                  int required, sl__field *f);

/**
 * Returns the text of a scalar node, or NULL after reporting "expected <what>, found ..." when
 * n is not a scalar or holds a NUL byte.
 */
const char *sl__scalar(sl__ctx *c, const sl__ynode *n, const char *path, const char *what);

/**
 * Checks that n is a list of at most max items (and at least one when nonempty); reports what
 * is wrong. Returns 1 when n is a list (even of a wrong length), 0 otherwise.
 */
int sl__list_check(sl__ctx *c, const sl__ynode *n, const char *path, size_t max, int nonempty);

/** Reads a name ([a-z0-9] then [a-z0-9._-], at most SL_NAME_MAX). *out is a fresh copy. */
int sl__read_name(sl__ctx *c, const sl__ynode *n, const char *path, const char *what, char **out);

/** Reads any scalar as a fresh string copy (optionally refusing control characters). */
int sl__read_text(sl__ctx *c, const sl__ynode *n, const char *path, int plain_line, char **out);

/** Reads one of names[0..count) into *out (its index); lists the choices when it is not. */
int sl__read_enum(sl__ctx *c, const sl__ynode *n, const char *path, const char *what,
                  const char *const *names, size_t count, int *out);

/** Reads a decimal integer in [min, max] (digits only). */
int sl__read_int(sl__ctx *c, const sl__ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *out);

/** Reads a duration (sl_duration_parse); with allow_zero, "0s"-style zero too. */
int sl__read_duration(sl__ctx *c, const sl__ynode *n, const char *path, int allow_zero,
                      int64_t *out);

/** Appends ", name" (or "name" at the start) to buf[0..cap), advancing *at; truncates. */
void sl__join(char *buf, size_t cap, size_t *at, const char *name);

/** Reads an RFC 3339 timestamp (sl_time_parse). */
int sl__read_time(sl__ctx *c, const sl__ynode *n, const char *path, int64_t *out);

/** Reads a percentage into ppm, requiring min_ppm <= value <= 100 %. */
int sl__read_percent(sl__ctx *c, const sl__ynode *n, const char *path, int64_t min_ppm,
                     int64_t *out);

/**
 * Parses a money amount s[0..len) of node n: > 0, at most `scale` decimals. Problems are
 * reported naming the currency `cur`; too many decimals and overflow are told apart.
 */
int sl__parse_amount(sl__ctx *c, const sl__ynode *n, const char *path, const char *s, size_t len,
                     unsigned scale, const char *cur, int64_t *out);

/** Reads a money amount scalar (string or plain number) with sl__parse_amount. */
int sl__read_amount(sl__ctx *c, const sl__ynode *n, const char *path, unsigned scale,
                    const char *cur, int64_t *out);

/** Reads a window: calendar-month|calendar-day|calendar-hour|period|<duration>. */
int sl__read_window(sl__ctx *c, const sl__ynode *n, const char *path, sl_window_spec *out);

/** Writes a window as it would be written in a document ("calendar-month", "7d"). */
void sl__window_format(const sl_window_spec *w, char *buf, size_t cap);

/* ---- names and tables (names.c) ---- */

/** Document words indexed by the enums of sla.h (sl_service_kind, sl_metric, sl_policy,
 * sl_unknown_policy), each with its entry count. */
extern const char *const sl__service_kind_names[];
extern const size_t sl__n_service_kinds;
extern const char *const sl__metric_names[];
extern const size_t sl__n_metrics;
extern const char *const sl__policy_names[];
extern const size_t sl__n_policies;
extern const char *const sl__unknown_names[];
extern const size_t sl__n_unknowns;

/** The kinds of document this module reads ("Agreement", "Channel", "Node", "Secrets",
 * "Tokens"). */
extern const char *const sl__document_kinds[];
extern const size_t sl__n_document_kinds;

/** Channel documents: role names by bit number (sl__role_names[i] is role 1 << i) and the
 * ordering kinds indexed by sl_order_kind. */
extern const char *const sl__role_names[];
extern const size_t sl__n_roles;
extern const char *const sl__order_kind_names[];
extern const size_t sl__n_order_kinds;

/** True for the metrics that take a percentile (response_time, processing_time, delay). */
int sl__metric_has_percentile(sl_metric m);

/* ---- documents (spec.c) ---- */

/** Reads the whole file at path into buf (at most 16 MiB); reports and returns SL_EIO,
 * SL_EINVAL (too large) or SL_ENOMEM through diags on failure. */
int sl__read_file(const char *path, sl_buf *buf, sl_diags *diags);

/* ---- building the model ---- */

/** Positions of an objective's fields, for the cross-field checks of validate.c. */
typedef struct sl__obj_aux {
    const sl__ynode *node;
    const sl__ynode *interval;
    const sl__ynode *window;
    int grid_ok;    /* interval and window parsed */
    int metric_ok;  /* metric parsed */
    int overlap_ok; /* service, metric and percentile parsed */
} sl__obj_aux;

/** Positions of a penalty, for validate.c. */
typedef struct sl__pen_aux {
    const sl__ynode *objective; /* the `objective` value */
    int objective_ok;           /* penalty->objective resolved */
} sl__pen_aux;

/** The state of one sl_sla_parse call. */
typedef struct sl__build {
    sl__ctx ctx;
    sl_agreement_spec *spec;
    int period_ok;  /* start_ms and end_ms parsed and end > start */
    int billing_ok; /* billing parsed (or defaulted) */
    int fee_ok;     /* currency and minor units known: amounts can be read */
    int oracles_ok; /* spec.oracles parsed: members, policy, quorum */
    int members_ok; /* spec.oracles.members parsed: every name valid and unique */
    int services_ok;
    /* per service: kind and source parsed without a problem, so what it measures is known */
    unsigned char source_ok[SL_MAX_SERVICES];
    sl_policy policy; /* the agreement-wide oracle policy and quorum */
    uint32_t quorum;
    const sl__ynode *period_start; /* positions used by cross-field messages */
    const sl__ynode *period_end;
    const sl__ynode *billing;
    const sl__ynode *grace; /* set when grace was given and parsed */
    sl__obj_aux *obj_aux;   /* one per spec->objectives entry */
    sl__pen_aux *pen_aux;   /* one per spec->penalties entry */
} sl__build;

/** Builds spec.services. */
void sl__services_parse(sl__build *b, const sl__ynode *n, const char *path);

/** The index of the service called name in spec->services, or -1. */
long sl__service_index(const sl_agreement_spec *spec, const char *name);

/** Builds spec.oracles (members, policy, quorum). */
void sl__oracles_parse(sl__build *b, const sl__ynode *n, const char *path);

/**
 * Sets an objective's oracle mask, policy and quorum from its `oracles` override n (a list of
 * names or {members, policy, quorum}; NULL: the agreement's). 0 when they are valid.
 */
int sl__objective_oracles(sl__build *b, sl_objective_spec *o, const sl__ynode *n, const char *path);

/** Builds spec.objectives (after services and oracles). */
void sl__objectives_parse(sl__build *b, const sl__ynode *n, const char *path);

/** Reads an objective's target for metric m into *cmp and *target (n NULL: not given). */
int sl__read_target(sl__ctx *c, const sl__ynode *n, const char *path, sl_metric m, sl_cmp *cmp,
                    int64_t *target);

/** Reads an objective's percentile (0 < p < 100, at most 3 decimals) as milli-percent. */
int sl__read_percentile(sl__ctx *c, const sl__ynode *n, const char *path, uint32_t *out);

/** Builds spec.penalties (after objectives and fee). */
void sl__penalties_parse(sl__build *b, const sl__ynode *n, const char *path);

/** Applies the rules that span fields: grids, window nesting, counts, penalty overlap. */
void sl__validate(sl__build *b);

#endif
