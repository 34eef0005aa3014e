/*
 * test_key.c: Ed25519 keys of src/ledger/key.c: the RFC 8032 section 7.1 known answers
 * (tests/vectors/ed25519.txt, found through SL_SOURCE_DIR), signing and verification with
 * tampered signatures, messages and keys, and secret key files: format, mode 0600, no
 * overwriting, refusal of group/other permissions, malformed and missing files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slaledger/ident.h"

/* ---- helpers ---- */

static char tmpdir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/sl-test-key-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static int teardown_dir(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f;
    unlink(path);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- RFC 8032 known answers ---- */

typedef struct vec {
    char name[32];
    uint8_t seed[32], pk[32], sig[64];
    uint8_t msg[2048];
    size_t msg_len;
} vec;

static void unhex_into(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(sl_unhex(hex, strlen(hex), out, n), 0);
}

/* Fills v from one "key: value" line; returns 1 when the line completed a vector (sig). */
static int vec_line(vec *v, char *line)
{
    char *val = strchr(line, ':');
    assert_non_null(val);
    *val++ = '\0';
    while (*val == ' ')
        val++;
    if (strcmp(line, "name") == 0) {
        snprintf(v->name, sizeof(v->name), "%s", val);
    } else if (strcmp(line, "seed") == 0) {
        unhex_into(val, v->seed, 32);
    } else if (strcmp(line, "pk") == 0) {
        unhex_into(val, v->pk, 32);
    } else if (strcmp(line, "msg") == 0) {
        v->msg_len = strlen(val) / 2;
        assert_true(v->msg_len <= sizeof(v->msg));
        unhex_into(val, v->msg, v->msg_len);
    } else if (strcmp(line, "sig") == 0) {
        unhex_into(val, v->sig, 64);
        return 1;
    } else {
        fail_msg("unknown key %s in ed25519.txt", line);
    }
    return 0;
}

static void check_vector(const vec *v)
{
    sl_key *k = NULL;
    uint8_t pk[32], sig[64], bad[64], other[32];

    assert_int_equal(sl_key_from_seed(v->seed, &k), 0);
    sl_key_public(k, pk);
    assert_memory_equal(pk, v->pk, 32);
    sl_key_sign(k, v->msg, v->msg_len, sig);
    assert_memory_equal(sig, v->sig, 64);
    assert_int_equal(sl_sig_verify(v->pk, v->msg, v->msg_len, v->sig), 0);
    /* Any flipped bit of the signature, a changed message or another key must fail. */
    for (size_t i = 0; i < 64; i += 7) {
        memcpy(bad, v->sig, 64);
        bad[i] ^= 0x01;
        assert_int_equal(sl_sig_verify(v->pk, v->msg, v->msg_len, bad), SL_EAUTH);
    }
    assert_int_equal(sl_sig_verify(v->pk, "x", 1, v->sig), SL_EAUTH);
    memcpy(other, v->pk, 32);
    other[5] ^= 0x40;
    assert_int_equal(sl_sig_verify(other, v->msg, v->msg_len, v->sig), SL_EAUTH);
    sl_key_free(k);
}

static void test_rfc8032_vectors(void **state)
{
    const char *src = getenv("SL_SOURCE_DIR");
    char path[512], *text, *line, *save = NULL;
    size_t len, count = 0;
    vec *v;
    (void)state;

    if (!src)
        fail_msg("SL_SOURCE_DIR is not set; run the test through ctest");
    v = calloc(1, sizeof(*v));
    assert_non_null(v);
    snprintf(path, sizeof(path), "%s/tests/vectors/ed25519.txt", src);
    text = read_file(path, &len);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (vec_line(v, line)) {
            check_vector(v);
            count++;
            memset(v, 0, sizeof(*v));
        }
    }
    /* TEST 1, 2, 3, 1024 and SHA(abc). */
    assert_int_equal(count, 5);
    free(text);
    free(v);
}

/* ---- generated keys ---- */

static void test_generate_sign_verify(void **state)
{
    sl_key *a = NULL, *b = NULL;
    uint8_t pa[32], pb[32], sig[64];
    const char msg[] = "availability 99.95%";
    (void)state;

    assert_int_equal(sl_key_generate(&a), 0);
    assert_int_equal(sl_key_generate(&b), 0);
    sl_key_public(a, pa);
    sl_key_public(b, pb);
    assert_memory_not_equal(pa, pb, 32);
    sl_key_sign(a, msg, sizeof(msg), sig);
    assert_int_equal(sl_sig_verify(pa, msg, sizeof(msg), sig), 0);
    assert_int_equal(sl_sig_verify(pb, msg, sizeof(msg), sig), SL_EAUTH);
    assert_int_equal(sl_sig_verify(pa, msg, sizeof(msg) - 1, sig), SL_EAUTH);
    /* An empty message given as NULL signs and verifies like "". */
    sl_key_sign(a, NULL, 0, sig);
    assert_int_equal(sl_sig_verify(pa, "", 0, sig), 0);
    sl_key_free(a);
    sl_key_free(b);
    sl_key_free(NULL);
}

/* ---- key files ---- */

static const uint8_t seed1[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_save_load(void **state)
{
    char path[300], *text;
    sl_key *k = NULL, *l = NULL;
    uint8_t pk[32], pl[32], s1[64], s2[64];
    struct stat st;
    sl_error err;
    size_t len;
    (void)state;

    path_in(path, sizeof(path), "member.key");
    assert_int_equal(sl_key_from_seed(seed1, &k), 0);
    assert_int_equal(sl_key_save(k, path, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    text = read_file(path, &len);
    assert_string_equal(text, "slaledger-ed25519-secret-v1 "
                              "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n");
    free(text);

    assert_int_equal(sl_key_load(path, &l, &err), 0);
    sl_key_public(k, pk);
    sl_key_public(l, pl);
    assert_memory_equal(pk, pl, 32);
    sl_key_sign(k, "m", 1, s1);
    sl_key_sign(l, "m", 1, s2);
    assert_memory_equal(s1, s2, 64);
    sl_key_free(l);

    /* Never overwritten: the existing file stays as it was. */
    sl_key_free(k);
    assert_int_equal(sl_key_generate(&k), 0);
    assert_int_equal(sl_key_save(k, path, &err), SL_EEXIST);
    assert_int_equal(err.code, SL_EEXIST);
    assert_int_equal(sl_key_load(path, &l, &err), 0);
    sl_key_public(l, pl);
    assert_memory_equal(pk, pl, 32);
    sl_key_free(l);
    sl_key_free(k);
    unlink(path);
}

static void test_save_refusals(void **state)
{
    sl_key *k = NULL;
    sl_error err;
    char path[300];
    (void)state;

    assert_int_equal(sl_key_from_seed(seed1, &k), 0);
    path_in(path, sizeof(path), "no-such-dir/member.key");
    assert_int_equal(sl_key_save(k, path, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "cannot create"));
    sl_key_free(k);
}

static void test_load_permissions(void **state)
{
    static const mode_t bad[] = {0640, 0604, 0620, 0602, 0660, 0644, 0610, 0601};
    const char *good = "slaledger-ed25519-secret-v1 "
                       "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n";
    char path[300];
    sl_key *k = (sl_key *)&k;
    sl_error err;
    (void)state;

    path_in(path, sizeof(path), "perm.key");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, good, bad[i]);
        assert_int_equal(sl_key_load(path, &k, &err), SL_EPERM);
        assert_null(k);
        assert_int_equal(err.code, SL_EPERM);
        assert_non_null(strstr(err.msg, "chmod 600"));
    }
    /* Owner-only modes are fine, read-only included. */
    write_file(path, good, 0400);
    assert_int_equal(sl_key_load(path, &k, &err), 0);
    sl_key_free(k);
    unlink(path);
}

static void test_load_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "\n",
        "slaledger-ed25519-secret-v1\n",
        "slaledger-ed25519-secret-v2 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n",
        "slaledger-ed25519-secret-v1  "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n",
        "slaledger-ed25519-secret-v1 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2\n",
        "slaledger-ed25519-secret-v1 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2g\n",
        "slaledger-ed25519-secret-v1 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n\n",
        "slaledger-ed25519-secret-v1 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2000\n",
        "slaledger-ed25519-secret-v1 "
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\nmore\n",
    };
    char path[300];
    sl_key *k = NULL;
    sl_error err;
    (void)state;

    path_in(path, sizeof(path), "bad.key");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i], 0600);
        assert_int_equal(sl_key_load(path, &k, &err), SL_EINVAL);
        assert_null(k);
        assert_non_null(strstr(err.field, "bad.key"));
    }
    /* Without the final newline the line still loads. */
    write_file(path,
               "slaledger-ed25519-secret-v1 "
               "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
               0600);
    assert_int_equal(sl_key_load(path, &k, &err), 0);
    sl_key_free(k);
    unlink(path);
}

static void test_load_missing(void **state)
{
    char path[300];
    sl_key *k = NULL;
    sl_error err;
    (void)state;

    path_in(path, sizeof(path), "absent.key");
    assert_int_equal(sl_key_load(path, &k, &err), SL_ENOENT);
    assert_null(k);
    /* A directory is not a key file. */
    assert_int_equal(sl_key_load(tmpdir, &k, &err), SL_EIO);
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_vectors),  cmocka_unit_test(test_generate_sign_verify),
        cmocka_unit_test(test_save_load),        cmocka_unit_test(test_save_refusals),
        cmocka_unit_test(test_load_permissions), cmocka_unit_test(test_load_malformed),
        cmocka_unit_test(test_load_missing),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
