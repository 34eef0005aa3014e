/*
 * idset.c: a hash set of 32-byte ids (SHA-256 outputs), each with an expiry time, for replay
 * protection and for remembering verified signatures.
 *
 * Open addressing with linear probing, indexed by the id's first eight bytes (ids are hashes,
 * so they are spread evenly and nobody can aim collisions at a slot cheaply). Deletion shifts
 * later entries back, so lookups never need tombstones. Load stays below 1/2. Thread-safety:
 * sl__idset has none (the owner locks); sl__ids wraps one with its own mutex.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

static size_t slot_of(const uint8_t id[SL_HASH_LEN], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return (size_t)h & (cap - 1);
}

static size_t find(const sl__idset *s, const uint8_t id[SL_HASH_LEN])
{
    size_t i = slot_of(id, s->cap);
    while (s->expires[i] && memcmp(s->ids[i], id, SL_HASH_LEN) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

void sl__idset_release(sl__idset *s)
{
    free(s->ids);
    free(s->expires);
    memset(s, 0, sizeof(*s));
}

int sl__idset_has(const sl__idset *s, const uint8_t id[SL_HASH_LEN])
{
    return s->cap && s->expires[find(s, id)] != 0;
}

static int rebuild(sl__idset *s, size_t cap, int64_t keep_from)
{
    sl__idset t = {.cap = cap};
    t.ids = malloc(cap * SL_HASH_LEN);
    t.expires = calloc(cap, sizeof(*t.expires));
    if (!t.ids || !t.expires) {
        sl__idset_release(&t);
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->expires[i] || s->expires[i] < keep_from)
            continue;
        size_t j = find(&t, s->ids[i]);
        memcpy(t.ids[j], s->ids[i], SL_HASH_LEN);
        t.expires[j] = s->expires[i];
        t.n++;
    }
    sl__idset_release(s);
    *s = t;
    return 0;
}

int sl__idset_add(sl__idset *s, const uint8_t id[SL_HASH_LEN], int64_t expires)
{
    if ((s->n + 1) * 2 > s->cap && rebuild(s, s->cap ? s->cap * 2 : 1024, INT64_MIN))
        return SL_ENOMEM;
    size_t i = find(s, id);
    if (s->expires[i])
        return 0;
    memcpy(s->ids[i], id, SL_HASH_LEN);
    s->expires[i] = expires;
    s->n++;
    return 0;
}

void sl__idset_del(sl__idset *s, const uint8_t id[SL_HASH_LEN])
{
    if (!s->cap)
        return;
    size_t i = find(s, id), mask = s->cap - 1;
    if (!s->expires[i])
        return;
    s->expires[i] = 0;
    s->n--;
    /* Shift back every entry of the run that probed past the hole. */
    for (size_t j = (i + 1) & mask; s->expires[j]; j = (j + 1) & mask) {
        size_t home = slot_of(s->ids[j], s->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            memcpy(s->ids[i], s->ids[j], SL_HASH_LEN);
            s->expires[i] = s->expires[j];
            s->expires[j] = 0;
            i = j;
        }
    }
}

int sl__idset_prune(sl__idset *s, int64_t now)
{
    if (!s->cap)
        return 0;
    size_t live = 0;
    for (size_t i = 0; i < s->cap; i++)
        live += s->expires[i] >= now;
    size_t cap = 1024;
    while (live * 2 >= cap)
        cap *= 2;
    return rebuild(s, cap, now);
}

/* ---- sl__ids: an idset with its own lock ---- */

int sl__ids_init(sl__ids *s)
{
    memset(s, 0, sizeof(*s));
    return pthread_mutex_init(&s->mu, NULL) ? SL_ENOMEM : 0;
}

void sl__ids_release(sl__ids *s)
{
    pthread_mutex_destroy(&s->mu);
    sl__idset_release(&s->set);
}

int sl__ids_has(sl__ids *s, const uint8_t id[SL_HASH_LEN])
{
    pthread_mutex_lock(&s->mu);
    int has = sl__idset_has(&s->set, id);
    pthread_mutex_unlock(&s->mu);
    return has;
}

int sl__ids_add(sl__ids *s, const uint8_t id[SL_HASH_LEN], int64_t expires)
{
    pthread_mutex_lock(&s->mu);
    int rc = sl__idset_add(&s->set, id, expires);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void sl__ids_del(sl__ids *s, const uint8_t id[SL_HASH_LEN])
{
    pthread_mutex_lock(&s->mu);
    sl__idset_del(&s->set, id);
    pthread_mutex_unlock(&s->mu);
}

int sl__ids_prune(sl__ids *s, int64_t now, size_t over)
{
    pthread_mutex_lock(&s->mu);
    int rc = s->set.n > over ? sl__idset_prune(&s->set, now) : 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
