/*
 * secrets.c: the two private documents of a node besides its configuration: the secrets file
 * (kind: Secrets), its named cloud credentials, and the tokens file (kind: Tokens), the API's
 * bearer tokens stored as SHA-256 hashes. Both are read with the frame, readers and
 * diagnostics of the other documents (doc.c, walk.c), so unknown fields are refused and every
 * problem is reported with its position and field; docs/node-config.md describes them.
 *
 * Secrets never leave this module's model: diagnostics about a credential's value never quote
 * it, the file's bytes are wiped once parsed, and sl_secrets_free wipes every string
 * (sodium_memzero) before freeing it. (The parse tree of yaml.c and libfyaml's own buffers are
 * freed without wiping; see docs/node-config.md.) The loaders check the file's permissions
 * first, as sl_key_load does: a secrets file must be private to its owner, a tokens file must
 * not be writable by group or others. sl_tokens_check compares hashes in constant time. A token
 * speaks for one user (organization and name), who has one role in the file.
 *
 * Each parse owns its build state for the call; on failure everything is freed and *out stays
 * NULL. Thread-safety: reentrant; a parsed document may be read from several threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define FILE_MAX (16u << 20)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const metadata_keys[] = {"name", "description", NULL};
static const char *const secrets_spec_keys[] = {"credentials", NULL};
static const char *const aws_keys[] = {
    "name",   "kind", "access_key_id", "secret_access_key", "session_token", "region", "endpoint",
    "oracle", NULL};
static const char *const azure_keys[] = {"name",           "kind",          "tenant_id",
                                         "client_id",      "client_secret", "endpoint",
                                         "login_endpoint", "oracle",        NULL};
static const char *const any_keys[] = {
    "name",      "kind",      "access_key_id", "secret_access_key", "session_token",  "region",
    "tenant_id", "client_id", "client_secret", "endpoint",          "login_endpoint", "oracle",
    NULL};
static const char *const credential_kinds[] = {"aws", "azure"};
static const char *const tokens_spec_keys[] = {"tokens", NULL};
static const char *const token_keys[] = {"user", "org", "role", "sha256", NULL};

/* ---- reading a private file ---- */

/* Reads at most cap bytes of fd into buf; the count, or -1 on a read error. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

static int io_fail(sl_diags *diags, const char *path, const char *what, int errnum)
{
    char why[128];

    if (strerror_r(errnum, why, sizeof(why)) != 0)
        sl_strfmt(why, sizeof(why), "error %d", errnum);
    sl_diags_add(diags, SL_EIO, 0, 0, "", "cannot %s %s: %s", what, path, why);
    return SL_EIO;
}

/* Opens path and checks it is a regular file with none of the mode bits `forbidden`; `fix`
 * says what to run when it has some. 0 with *fd and *size, or an error already reported. */
static int private_open(const char *path, unsigned forbidden, const char *fix, int *fd,
                        size_t *size, sl_diags *diags)
{
    struct stat st;

    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return io_fail(diags, path, "read", errno);
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sl_diags_add(diags, SL_EIO, 0, 0, "", "cannot read %s: not a regular file", path);
        return SL_EIO;
    }
    if ((unsigned)st.st_mode & forbidden) {
        sl_diags_add(diags, SL_EPERM, 0, 0, "", "%s has mode %04o: %s (run %s on it)", path,
                     (unsigned)st.st_mode & 07777u, fix,
                     forbidden == 077u ? "chmod 600" : "chmod go-w");
        return SL_EPERM;
    }
    if ((uintmax_t)st.st_size > FILE_MAX) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "%s is larger than %u bytes", path, FILE_MAX);
        return SL_EINVAL;
    }
    *size = (size_t)st.st_size;
    return 0;
}

/* Reads a whole private file into a fresh buffer *text (*len bytes); the caller wipes and
 * frees it. 0 or an error already reported. */
static int private_read(const char *path, unsigned forbidden, const char *fix, char **text,
                        size_t *len, sl_diags *diags)
{
    size_t size = 0;
    ssize_t n;
    int fd = -1;
    int rc = private_open(path, forbidden, fix, &fd, &size, diags);

    *text = NULL;
    if (rc != 0)
        goto out;
    /* One byte more than fstat said, so a file that grew meanwhile is noticed, not cut. */
    *text = malloc(size + 1);
    if (!*text) {
        sl_diags_add(diags, SL_ENOMEM, 0, 0, "", "out of memory reading %s", path);
        rc = SL_ENOMEM;
        goto out;
    }
    n = read_all(fd, *text, size + 1);
    if (n < 0 || (size_t)n > size) {
        rc = n < 0 ? io_fail(diags, path, "read", errno)
                   : io_fail(diags, path, "read (it changed while being read)", EAGAIN);
        goto out;
    }
    *len = (size_t)n;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && *text) {
        sodium_memzero(*text, size + 1);
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* ---- shared ---- */

/* metadata: a required name and an optional description. */
static void metadata_read(sl__ctx *c, const sl__ynode *n, const char *path, const char *what,
                          char **name, char **description)
{
    sl__field f;

    if (!sl__map_check(c, n, path, metadata_keys))
        return;
    if (sl__field_get(c, n, path, "name", 1, &f))
        sl__read_name(c, f.node, f.path, what, name);
    if (sl__field_get(c, n, path, "description", 0, &f))
        sl__read_text(c, f.node, f.path, 0, description);
}

/* Frees s after overwriting its bytes. Accepts NULL. */
static void wipe_free(char *s)
{
    if (!s)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}

/* ---- secrets ---- */

typedef struct secrets_build {
    sl__ctx ctx;
    sl_secrets *s;
} secrets_build;

static int printable_token(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    }
    return 1;
}

/* Reads a credential string. Its value is never quoted: a message may end up in a log. */
static int read_secret(sl__ctx *c, const sl__ynode *map, const char *mpath, const char *key,
                       int required, char **out)
{
    sl__field f;
    const char *s;

    if (!sl__field_get(c, map, mpath, key, required, &f))
        return -1;
    s = sl__scalar(c, f.node, f.path, "a credential string");
    if (!s)
        return -1;
    if (f.node->len == 0 || f.node->len > SL_SECRET_MAX || !printable_token(s, f.node->len)) {
        sl__error(c, f.node, SL_EINVAL, f.path,
                  "expected 1 to %d printable ASCII characters without spaces (the value is not "
                  "shown)",
                  SL_SECRET_MAX);
        return -1;
    }
    *out = sl_strndup(s, f.node->len);
    if (!*out)
        sl__nomem(c);
    return *out ? 0 : -1;
}

/* An optional endpoint URL (not a secret: it is shown in messages). */
static void read_url(sl__ctx *c, const sl__ynode *n, const char *path, const char *key, char **out)
{
    sl__field f;
    sl__shown sh;

    if (!sl__field_get(c, n, path, key, 0, &f) || sl__read_text(c, f.node, f.path, 1, out) != 0)
        return;
    if (strncmp(*out, "http://", 7) != 0 && strncmp(*out, "https://", 8) != 0) {
        sl__error(c, f.node, SL_EINVAL, f.path, "expected an http:// or https:// URL, found %s",
                  sl__show(f.node->text, f.node->len, &sh));
        free(*out);
        *out = NULL;
    }
}

static void aws_parse(sl__ctx *c, const sl__ynode *n, const char *path, sl_credential *cr)
{
    sl__field f;

    read_secret(c, n, path, "access_key_id", 1, &cr->access_key_id);
    read_secret(c, n, path, "secret_access_key", 1, &cr->secret_access_key);
    read_secret(c, n, path, "session_token", 0, &cr->session_token);
    if (sl__field_get(c, n, path, "region", 1, &f))
        sl__read_name(c, f.node, f.path, "an AWS region", &cr->region);
    read_url(c, n, path, "endpoint", &cr->endpoint);
}

static void azure_parse(sl__ctx *c, const sl__ynode *n, const char *path, sl_credential *cr)
{
    read_secret(c, n, path, "tenant_id", 1, &cr->tenant_id);
    read_secret(c, n, path, "client_id", 1, &cr->client_id);
    read_secret(c, n, path, "client_secret", 1, &cr->client_secret);
    read_url(c, n, path, "endpoint", &cr->endpoint);
    read_url(c, n, path, "login_endpoint", &cr->login_endpoint);
}

static int same_oracle(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The credential before i called name for the same oracle (or both for any), or -1. */
static long credential_index(const sl_secrets *s, size_t i, const char *name, const char *oracle)
{
    for (size_t k = 0; k < i; k++) {
        if (s->credentials[k].name && strcmp(s->credentials[k].name, name) == 0 &&
            same_oracle(s->credentials[k].oracle, oracle))
            return (long)k;
    }
    return -1;
}

static void credential_name(secrets_build *b, const sl__ynode *n, const char *path,
                            const char *list, size_t i)
{
    sl_credential *cr = &b->s->credentials[i];
    char other[SL__PATH_MAX];
    sl__field f;
    long dup;

    if (sl__field_get(&b->ctx, n, path, "oracle", 0, &f))
        sl__read_name(&b->ctx, f.node, f.path, "an oracle", &cr->oracle);
    if (!sl__field_get(&b->ctx, n, path, "name", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "a credential", &cr->name) != 0)
        return;
    dup = credential_index(b->s, i, cr->name, cr->oracle);
    if (dup < 0)
        return;
    sl__path_index(other, list, (size_t)dup);
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "duplicate credential '%s' (also %s)", cr->name,
              other);
}

/* One credential. Its kind decides which fields it may have; with the kind unreadable, any
 * credential field is accepted so that only real problems are reported. */
static void credential_parse(secrets_build *b, const sl__ynode *n, const char *path,
                             const char *list, size_t i)
{
    sl_credential *cr = &b->s->credentials[i];
    sl__field f;
    int k = -1;

    if (!n || n->type != SL__Y_MAP) {
        sl__map_check(&b->ctx, n, path, any_keys);
        return;
    }
    if (sl__field_get(&b->ctx, n, path, "kind", 1, &f))
        sl__read_enum(&b->ctx, f.node, f.path, "credential kind", credential_kinds,
                      COUNT(credential_kinds), &k);
    sl__map_check(&b->ctx, n, path,
                  k == SL_CREDENTIAL_AWS     ? aws_keys
                  : k == SL_CREDENTIAL_AZURE ? azure_keys
                                             : any_keys);
    credential_name(b, n, path, list, i);
    if (k < 0)
        return;
    cr->kind = (sl_credential_kind)k;
    if (cr->kind == SL_CREDENTIAL_AWS)
        aws_parse(&b->ctx, n, path, cr);
    else
        azure_parse(&b->ctx, n, path, cr);
}

static void credentials_parse(secrets_build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t k;

    if (!sl__list_check(&b->ctx, n, path, SL_SECRETS_MAX_CREDENTIALS, 0))
        return;
    k = n->n < SL_SECRETS_MAX_CREDENTIALS ? n->n : SL_SECRETS_MAX_CREDENTIALS;
    b->s->credentials = calloc(k ? k : 1, sizeof(*b->s->credentials));
    if (!b->s->credentials) {
        sl__nomem(&b->ctx);
        return;
    }
    b->s->n_credentials = k;
    for (size_t i = 0; i < k; i++) {
        sl__path_index(item, path, i);
        credential_parse(b, &n->kids[i], item, path, i);
    }
}

static void secrets_metadata_cb(void *build, const sl__ynode *n, const char *path)
{
    secrets_build *b = build;
    metadata_read(&b->ctx, n, path, "a secrets file", &b->s->name, &b->s->description);
}

static void secrets_spec_cb(void *build, const sl__ynode *n, const char *path)
{
    secrets_build *b = build;
    sl__field f;

    if (sl__map_check(&b->ctx, n, path, secrets_spec_keys) &&
        sl__field_get(&b->ctx, n, path, "credentials", 1, &f))
        credentials_parse(b, f.node, f.path);
}

static const sl__doc_kind secrets_kind = {"Secrets", secrets_metadata_cb, secrets_spec_cb};

int sl_secrets_parse(const char *text, size_t len, const char *filename, sl_secrets **out,
                     sl_diags *diags)
{
    secrets_build b = {.ctx = {.diags = diags}};
    int rc;

    (void)filename; /* diagnostics carry positions; the caller adds the file name */
    if ((rc = sl__doc_args(&b.ctx, text, len, out)))
        return rc;
    b.s = calloc(1, sizeof(*b.s));
    if (!b.s) {
        sl__nomem(&b.ctx);
        return SL_ENOMEM;
    }
    rc = sl__doc_parse(&b, text, len, &secrets_kind);
    if (rc != 0)
        sl_secrets_free(b.s);
    else
        *out = b.s;
    return rc;
}

int sl_secrets_parse_file(const char *path, sl_secrets **out, sl_diags *diags)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !out) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "no file given");
        return SL_EINVAL;
    }
    rc = private_read(path, 077u, "group and others must have no access to a secrets file", &text,
                      &len, diags);
    if (rc != 0)
        return rc;
    rc = sl_secrets_parse(text, len, path, out, diags);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

const sl_credential *sl_secrets_find_for(const sl_secrets *s, const char *name, const char *oracle)
{
    const sl_credential *any = NULL;

    if (!s || !name)
        return NULL;
    for (size_t i = 0; i < s->n_credentials; i++) {
        const sl_credential *cr = &s->credentials[i];
        if (!cr->name || strcmp(cr->name, name) != 0)
            continue;
        if (!cr->oracle)
            any = cr;
        else if (oracle && strcmp(cr->oracle, oracle) == 0)
            return cr;
    }
    return any;
}

const sl_credential *sl_secrets_find(const sl_secrets *s, const char *name)
{
    return sl_secrets_find_for(s, name, NULL);
}

const char *sl_credential_kind_name(sl_credential_kind k)
{
    return (size_t)k < COUNT(credential_kinds) ? credential_kinds[k] : "unknown";
}

void sl_secrets_free(sl_secrets *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_credentials; i++) {
        sl_credential *cr = &s->credentials[i];
        wipe_free(cr->name);
        wipe_free(cr->access_key_id);
        wipe_free(cr->secret_access_key);
        wipe_free(cr->session_token);
        wipe_free(cr->region);
        wipe_free(cr->tenant_id);
        wipe_free(cr->client_id);
        wipe_free(cr->client_secret);
        wipe_free(cr->endpoint);
        wipe_free(cr->login_endpoint);
        wipe_free(cr->oracle);
    }
    free(s->credentials);
    wipe_free(s->name);
    wipe_free(s->description);
    free(s);
}

/* ---- tokens ---- */

typedef struct tokens_build {
    sl__ctx ctx;
    sl_tokens *t;
    unsigned char *hash_ok; /* per entry: its sha256 parsed (and is unique) */
} tokens_build;

/* Reads a name into a fixed field of SL_NAME_MAX + 1 bytes. */
static int read_name_into(sl__ctx *c, const sl__ynode *map, const char *mpath, const char *key,
                          const char *what, char out[SL_NAME_MAX + 1])
{
    sl__field f;
    char *s = NULL;

    if (!sl__field_get(c, map, mpath, key, 1, &f) || sl__read_name(c, f.node, f.path, what, &s))
        return -1;
    sl_strfmt(out, SL_NAME_MAX + 1, "%s", s);
    free(s);
    return 0;
}

static void token_role(sl__ctx *c, const sl__ynode *map, const char *mpath, sl_token *tk)
{
    sl__field f;
    int k;

    if (sl__field_get(c, map, mpath, "role", 1, &f) &&
        sl__read_enum(c, f.node, f.path, "role", sl__role_names, sl__n_roles, &k) == 0)
        tk->role = (sl_role)(1u << k);
}

/* The token before i with the same hash, or -1. */
static long hash_index(const tokens_build *b, size_t i)
{
    for (size_t k = 0; k < i; k++) {
        if (b->hash_ok[k] && memcmp(b->t->tokens[k].sha256, b->t->tokens[i].sha256, 32) == 0)
            return (long)k;
    }
    return -1;
}

static void token_hash(tokens_build *b, const sl__ynode *map, const char *mpath, const char *list,
                       size_t i)
{
    char other[SL__PATH_MAX];
    sl__field f;
    const char *s;
    sl__shown sh;
    long dup;

    if (!sl__field_get(&b->ctx, map, mpath, "sha256", 1, &f) ||
        !(s = sl__scalar(&b->ctx, f.node, f.path, "a SHA-256 hash")))
        return;
    if (sl_unhex(s, f.node->len, b->t->tokens[i].sha256, 32) != 0) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "expected the token's SHA-256 as 64 hex digits, found %s (%zu characters)",
                  sl__show(s, f.node->len, &sh), f.node->len);
        return;
    }
    dup = hash_index(b, i);
    if (dup < 0) {
        b->hash_ok[i] = 1;
        return;
    }
    sl__path_index(other, list, (size_t)dup);
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
              "the same hash as %s: a token can speak for one user only", other);
}

/* A user is one member with one role: a second token of the same user and organization must
 * name the same role (a token each, e.g. while one replaces another), or who the user is would
 * depend on the token presented. */
static void token_role_dup(tokens_build *b, const sl__ynode *map, const char *mpath,
                           const char *list, size_t i)
{
    const sl_token *tk = &b->t->tokens[i];
    char other[SL__PATH_MAX];
    sl__field f;

    if (!tk->user[0] || !tk->org[0] || !tk->role ||
        !sl__field_get(&b->ctx, map, mpath, "role", 1, &f))
        return;
    for (size_t k = 0; k < i; k++) {
        const sl_token *o = &b->t->tokens[k];
        if (!o->role || o->role == tk->role || strcmp(o->user, tk->user) != 0 ||
            strcmp(o->org, tk->org) != 0)
            continue;
        sl__path_index(other, list, k);
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "%s of %s is a %s in %s; a user has one role, whichever token speaks for them",
                  tk->user, tk->org, sl_role_name(o->role), other);
        return;
    }
}

static void token_parse(tokens_build *b, const sl__ynode *n, const char *path, const char *list,
                        size_t i)
{
    sl_token *tk = &b->t->tokens[i];

    tk->line = n->line;
    tk->column = n->column;
    if (!sl__map_check(&b->ctx, n, path, token_keys))
        return;
    read_name_into(&b->ctx, n, path, "user", "a user", tk->user);
    read_name_into(&b->ctx, n, path, "org", "an organization", tk->org);
    token_role(&b->ctx, n, path, tk);
    token_role_dup(b, n, path, list, i);
    token_hash(b, n, path, list, i);
}

static void tokens_list_parse(tokens_build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t k;

    if (!sl__list_check(&b->ctx, n, path, SL_TOKENS_MAX, 0))
        return;
    k = n->n < SL_TOKENS_MAX ? n->n : SL_TOKENS_MAX;
    b->t->tokens = calloc(k ? k : 1, sizeof(*b->t->tokens));
    b->hash_ok = calloc(k ? k : 1, 1);
    if (!b->t->tokens || !b->hash_ok) {
        sl__nomem(&b->ctx);
        return;
    }
    b->t->n_tokens = k;
    for (size_t i = 0; i < k; i++) {
        sl__path_index(item, path, i);
        token_parse(b, &n->kids[i], item, path, i);
    }
}

static void tokens_metadata_cb(void *build, const sl__ynode *n, const char *path)
{
    tokens_build *b = build;
    metadata_read(&b->ctx, n, path, "a tokens file", &b->t->name, &b->t->description);
}

static void tokens_spec_cb(void *build, const sl__ynode *n, const char *path)
{
    tokens_build *b = build;
    sl__field f;

    if (sl__map_check(&b->ctx, n, path, tokens_spec_keys) &&
        sl__field_get(&b->ctx, n, path, "tokens", 1, &f))
        tokens_list_parse(b, f.node, f.path);
}

static const sl__doc_kind tokens_kind = {"Tokens", tokens_metadata_cb, tokens_spec_cb};

int sl_tokens_parse(const char *text, size_t len, const char *filename, sl_tokens **out,
                    sl_diags *diags)
{
    tokens_build b = {.ctx = {.diags = diags}};
    int rc;

    (void)filename; /* diagnostics carry positions; the caller adds the file name */
    if ((rc = sl__doc_args(&b.ctx, text, len, out)))
        return rc;
    b.t = calloc(1, sizeof(*b.t));
    if (!b.t) {
        sl__nomem(&b.ctx);
        return SL_ENOMEM;
    }
    rc = sl__doc_parse(&b, text, len, &tokens_kind);
    free(b.hash_ok);
    if (rc != 0)
        sl_tokens_free(b.t);
    else
        *out = b.t;
    return rc;
}

int sl_tokens_parse_file(const char *path, sl_tokens **out, sl_diags *diags)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !out) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "no file given");
        return SL_EINVAL;
    }
    rc = private_read(path, 022u,
                      "group and others must not be able to write a tokens file (whoever can "
                      "write it can grant themselves access)",
                      &text, &len, diags);
    if (rc != 0)
        return rc;
    rc = sl_tokens_parse(text, len, path, out, diags);
    free(text);
    return rc;
}

int sl_tokens_check(const sl_tokens *t, const char *token, const sl_token **out)
{
    uint8_t h[SL_HASH_LEN];
    size_t len, found = SIZE_MAX;

    if (out)
        *out = NULL;
    if (!t || !token)
        return SL_EAUTH;
    len = strnlen(token, SL_TOKEN_CHECK_MAX + 1);
    if (len > SL_TOKEN_CHECK_MAX)
        return SL_EAUTH;
    sl_sha256(token, len, h);
    /* Every entry is compared, and the match is selected without a branch, so the time taken
     * says nothing about which hash (or how much of one) matched. */
    for (size_t i = 0; i < t->n_tokens; i++) {
        size_t eq = (size_t)(sodium_memcmp(h, t->tokens[i].sha256, SL_HASH_LEN) == 0);
        size_t mask = (size_t)0 - eq;
        found = (found & ~mask) | (i & mask);
    }
    sodium_memzero(h, sizeof(h));
    if (found == SIZE_MAX)
        return SL_EAUTH;
    if (out)
        *out = &t->tokens[found];
    return 0;
}

int sl_token_generate(char token[SL_TOKEN_LEN + 1], uint8_t sha256[32])
{
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    const size_t prefix = sizeof(SL_TOKEN_PREFIX) - 1;
    uint8_t raw[SL_TOKEN_BYTES];

    _Static_assert(sizeof(SL_TOKEN_PREFIX) - 1 +
                           sodium_base64_ENCODED_LEN(SL_TOKEN_BYTES,
                                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                       SL_TOKEN_LEN + 1,
                   "SL_TOKEN_LEN matches the encoding");
    if (sodium_init() < 0)
        return SL_ENOMEM;
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, SL_TOKEN_PREFIX, prefix);
    sodium_bin2base64(token + prefix, SL_TOKEN_LEN + 1 - prefix, raw, sizeof(raw), variant);
    sodium_memzero(raw, sizeof(raw));
    sl_sha256(token, SL_TOKEN_LEN, sha256);
    return 0;
}

void sl_tokens_free(sl_tokens *t)
{
    if (!t)
        return;
    free(t->tokens);
    free(t->name);
    free(t->description);
    free(t);
}
