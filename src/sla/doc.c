/*
 * doc.c: the frame every slaledger document shares, whatever its kind: YAML or JSON text into
 * a tree, the top-level keys (apiVersion, kind, metadata, spec), the version and kind, then the
 * kind's own parsers for metadata and spec. Agreements (spec.c) and channels (channel.c) differ
 * only in those parsers. Deterministic and free of I/O. Thread-safety: reentrant.
 */
#include <string.h>

#include "sla_int.h"

static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};

/* apiVersion and kind: required scalars with exactly one allowed value. Returns the text
 * found when it is another value, else NULL. */
static const char *constant_parse(sl__ctx *c, const sl__ynode *root, const char *key,
                                  const char *want)
{
    sl__field f;
    const char *s;
    sl__shown sh;

    if (!sl__field_get(c, root, "", key, 1, &f))
        return NULL;
    s = sl__scalar(c, f.node, f.path, want);
    if (!s || strcmp(s, want) == 0)
        return NULL;
    for (size_t i = 0; i < sl__n_document_kinds && strcmp(key, "kind") == 0; i++) {
        if (strcmp(s, sl__document_kinds[i]) == 0) {
            sl__error(c, f.node, SL_EINVAL, f.path, "expected kind %s, found %s", want, s);
            return s;
        }
    }
    sl__error(c, f.node, SL_EINVAL, f.path, "unsupported %s %s; expected %s", key,
              sl__show(s, f.node->len, &sh), want);
    return s;
}

/* apiVersion is slaledger/v1 and kind is `kind`. Returns 1 when the document is another known
 * kind ("expected kind Channel, found Agreement" has been reported, and every further field
 * would only add noise), else 0 (any other problem has been reported; go on). */
static int head_check(sl__ctx *c, const sl__ynode *root, const char *kind)
{
    const char *found;

    constant_parse(c, root, "apiVersion", "slaledger/v1");
    found = constant_parse(c, root, "kind", kind);
    for (size_t i = 0; found && i < sl__n_document_kinds; i++) {
        if (strcmp(found, sl__document_kinds[i]) == 0)
            return 1;
    }
    return 0;
}

static void document_parse(sl__ctx *ctx, void *build, const sl__ynode *root, const sl__doc_kind *k)
{
    sl__field f;

    if (!sl__map_check(ctx, root, "", top_keys))
        return;
    if (head_check(ctx, root, k->kind) != 0)
        return;
    if (sl__field_get(ctx, root, "", "metadata", 1, &f))
        k->metadata(build, f.node, f.path);
    if (sl__field_get(ctx, root, "", "spec", 1, &f))
        k->spec(build, f.node, f.path);
}

int sl__doc_parse(void *build, const char *text, size_t len, const sl__doc_kind *k)
{
    sl__ctx *ctx = build; /* the build's first member */
    sl__ynode *root = NULL;
    sl__ynode first = {.line = 1, .column = 1};

    if (sl__yaml_load(ctx, text, len, &root) == 0 && !root)
        sl__error(ctx, &first, SL_EINVAL, "", "the document is empty; expected %s %s mapping",
                  k->kind[0] == 'A' ? "an" : "a", k->kind);
    if (root)
        document_parse(ctx, build, root, k);
    sl__ynode_free(root);
    if (ctx->nomem)
        return SL_ENOMEM;
    if (ctx->errors > 0)
        return ctx->first ? ctx->first : SL_EINVAL;
    return 0;
}

int sl__doc_args(sl__ctx *ctx, const char *text, size_t len, void *out)
{
    void *none = NULL;
    if (out)
        memcpy(out, &none, sizeof(none)); /* out points at a T *, whatever T is */
    if (out && (text || len == 0))
        return 0;
    sl__error(ctx, NULL, SL_EINVAL, "", "no document given");
    return SL_EINVAL;
}
