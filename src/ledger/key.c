/*
 * key.c: Ed25519 key pairs (libsodium), their secret key files, and signature verification.
 *
 * A key lives in sodium_malloc'd memory (guard pages, mlock where allowed) that is made
 * read-only once filled and wiped by sodium_free. Every temporary copy of secret material (the
 * seed, the text of a key file) sits in a stack buffer that is wiped with sodium_memzero on every
 * path out. Key files are one line, "slaledger-ed25519-secret-v1 <64 hex digits of the seed>\n",
 * created with O_EXCL and mode 0600 (never overwritten) and fsync'd with their directory; a file
 * with any group or other permission bit is refused when loaded.
 *
 * Thread-safety: libsodium is initialized once (pthread_once). A key is immutable after
 * creation, so any number of threads may sign with it at once; sl_key_free must not race them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger/ident_int.h"
#include "slaledger/ident.h"

#define KEY_FILE_TAG "slaledger-ed25519-secret-v1"
#define KEY_SEED_LEN crypto_sign_SEEDBYTES
/* Tag, space, 64 hex digits, newline. */
#define KEY_FILE_LEN (sizeof(KEY_FILE_TAG) - 1 + 1 + 2 * KEY_SEED_LEN + 1)

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_init_once(void)
{
    sodium_status = sodium_init();
}

int sl__sodium_ready(void)
{
    if (pthread_once(&sodium_once, sodium_init_once) != 0)
        return SL_ENOMEM;
    return sodium_status < 0 ? SL_ENOMEM : 0;
}

/* A writable, zeroed key in guarded memory, or NULL. */
static sl_key *key_alloc(void)
{
    sl_key *k;

    if (sl__sodium_ready() != 0)
        return NULL;
    k = sodium_malloc(sizeof(*k));
    if (k)
        sodium_memzero(k, sizeof(*k));
    return k;
}

/* Seals a filled key read-only and hands it out. */
static int key_finish(sl_key *k, sl_key **out)
{
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

int sl_key_generate(sl_key **out)
{
    sl_key *k = key_alloc();

    *out = NULL;
    if (!k)
        return SL_ENOMEM;
    crypto_sign_keypair(k->pk, k->sk);
    return key_finish(k, out);
}

int sl_key_from_seed(const uint8_t seed[32], sl_key **out)
{
    sl_key *k = key_alloc();

    *out = NULL;
    if (!k)
        return SL_ENOMEM;
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    return key_finish(k, out);
}

void sl_key_free(sl_key *k)
{
    /* sodium_free makes the region writable again, wipes it and releases the guard pages. */
    if (k)
        sodium_free(k);
}

void sl_key_public(const sl_key *k, uint8_t pk[SL_PK_LEN])
{
    memcpy(pk, k->pk, SL_PK_LEN);
}

void sl_key_sign(const sl_key *k, const void *msg, size_t len, uint8_t sig[SL_SIG_LEN])
{
    static const uint8_t empty[1];

    crypto_sign_detached(sig, NULL, msg ? msg : empty, (unsigned long long)len, k->sk);
}

int sl_sig_verify(const uint8_t pk[SL_PK_LEN], const void *msg, size_t len,
                  const uint8_t sig[SL_SIG_LEN])
{
    static const uint8_t empty[1];

    if (sl__sodium_ready() != 0)
        return SL_ENOMEM;
    if (crypto_sign_verify_detached(sig, msg ? msg : empty, (unsigned long long)len, pk) != 0)
        return SL_EAUTH;
    return 0;
}

/* ---- key files ---- */

/* The text of errno value e, thread-safe (XSI strerror_r). */
static const char *errno_text(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0)
        snprintf(buf, cap, "error %d", e);
    return buf;
}

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

/* Opens path for reading and refuses anything but a regular file private to its owner. */
static int key_file_open(const char *path, int *fd_out, sl_error *err)
{
    struct stat st;
    char why[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    *fd_out = -1;
    if (fd < 0 && errno == ENOENT)
        return sl_error_set(err, SL_ENOENT, path, "key file does not exist");
    if (fd < 0)
        return sl_error_set(err, SL_EIO, path, "cannot open key file: %s",
                            errno_text(errno, why, sizeof(why)));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sl_error_set(err, SL_EIO, path, "key file is not a regular file");
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return sl_error_set(err, SL_EPERM, path,
                            "key file has mode %04o: group and others must have no access "
                            "(run chmod 600 on it)",
                            (unsigned)(st.st_mode & 07777));
    }
    *fd_out = fd;
    return 0;
}

/* Parses the key file text t[0..n) into seed. */
static int key_file_parse(const char *t, size_t n, uint8_t seed[KEY_SEED_LEN], const char *path,
                          sl_error *err)
{
    const size_t tag = sizeof(KEY_FILE_TAG) - 1;

    /* The final newline is optional, so that a hand-edited file without one still loads. */
    if (n == KEY_FILE_LEN && t[n - 1] == '\n')
        n--;
    if (n != KEY_FILE_LEN - 1 || memcmp(t, KEY_FILE_TAG, tag) != 0 || t[tag] != ' ')
        return sl_error_set(err, SL_EINVAL, path,
                            "not a key file: expected one line \"" KEY_FILE_TAG
                            " <64 hex digits>\"");
    if (sl_unhex(t + tag + 1, 2 * KEY_SEED_LEN, seed, KEY_SEED_LEN) != 0)
        return sl_error_set(err, SL_EINVAL, path, "the key is not 64 hexadecimal digits");
    return 0;
}

int sl_key_load(const char *path, sl_key **out, sl_error *err)
{
    char text[KEY_FILE_LEN + 1]; /* one more than a valid file, to notice a longer one */
    uint8_t seed[KEY_SEED_LEN];
    char why[128];
    ssize_t n = 0;
    int fd = -1, rc;

    *out = NULL;
    rc = key_file_open(path, &fd, err);
    if (rc != 0)
        goto out;
    n = read_all(fd, text, sizeof(text));
    if (n < 0) {
        rc = sl_error_set(err, SL_EIO, path, "cannot read key file: %s",
                          errno_text(errno, why, sizeof(why)));
        goto out;
    }
    rc = key_file_parse(text, (size_t)n, seed, path, err);
    if (rc != 0)
        goto out;
    rc = sl_key_from_seed(seed, out);
    if (rc != 0)
        sl_error_set(err, rc, path, "cannot allocate secure memory for the key");
out:
    if (fd >= 0)
        close(fd);
    sodium_memzero(text, sizeof(text));
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

/* Writes all n bytes of buf to fd. 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the new directory entry of path durable. Best effort where directories cannot be
 * opened; a failing fsync is an error. */
static int sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    int fd, rc;

    if (n >= sizeof(dir))
        return 0;
    if (!slash)
        memcpy(dir, ".", 1);
    else if (n == 0)
        memcpy(dir, "/", (n = 1));
    else
        memcpy(dir, path, n);
    dir[n] = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
    close(fd);
    return rc;
}

/* Writes the key line to the new file fd and makes it durable. 0 or -1 (errno set). */
static int key_file_write(int fd, const sl_key *k)
{
    char text[KEY_FILE_LEN + 1];
    const size_t tag = sizeof(KEY_FILE_TAG) - 1;
    int rc;

    memcpy(text, KEY_FILE_TAG " ", tag + 1);
    /* The first half of libsodium's secret key is the seed. */
    sl_hex(k->sk, KEY_SEED_LEN, text + tag + 1);
    text[KEY_FILE_LEN - 1] = '\n';
    rc = write_all(fd, text, KEY_FILE_LEN) == 0 && fsync(fd) == 0 ? 0 : -1;
    sodium_memzero(text, sizeof(text));
    return rc;
}

int sl_key_save(const sl_key *k, const char *path, sl_error *err)
{
    char why[128];
    int fd, rc = 0;

    fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0 && errno == EEXIST)
        return sl_error_set(err, SL_EEXIST, path, "key file already exists; not overwriting it");
    if (fd < 0)
        return sl_error_set(err, SL_EIO, path, "cannot create key file: %s",
                            errno_text(errno, why, sizeof(why)));
    if (key_file_write(fd, k) != 0)
        rc = sl_error_set(err, SL_EIO, path, "cannot write key file: %s",
                          errno_text(errno, why, sizeof(why)));
    if (close(fd) != 0 && rc == 0)
        rc = sl_error_set(err, SL_EIO, path, "cannot write key file: %s",
                          errno_text(errno, why, sizeof(why)));
    if (rc == 0 && sync_parent_dir(path) != 0)
        rc = sl_error_set(err, SL_EIO, path, "cannot sync the key file's directory: %s",
                          errno_text(errno, why, sizeof(why)));
    /* The file is ours (O_EXCL): on failure remove it, so that nothing half-written stays. */
    if (rc != 0)
        unlink(path);
    return rc;
}
