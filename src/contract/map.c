/*
 * map.c: a string-keyed hash map for the contract's name lookups (agreements, accounts).
 *
 * Open addressing with linear probing, FNV-1a hashing, load factor at most one half. Keys are
 * borrowed from the values they index and must live as long as the map. Entries are never
 * removed, which keeps probing simple. Allocation happens only in sl__strmap_reserve, so a
 * caller can reserve in its check phase and put in its apply phase without a failure point.
 */
#include <stdlib.h>
#include <string.h>

#include "contract/contract_int.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void insert_slot(const char **keys, void **vals, size_t cap, const char *key, void *val)
{
    size_t i = hash_str(key) & (cap - 1);
    while (keys[i])
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = val;
}

int sl__strmap_reserve(sl__strmap *m, size_t extra)
{
    size_t need = m->n + extra, cap = m->cap ? m->cap : 16;
    while (need * 2 > cap)
        cap *= 2;
    if (cap == m->cap)
        return 0;
    const char **keys = calloc(cap, sizeof(*keys));
    void **vals = calloc(cap, sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i])
            insert_slot(keys, vals, cap, m->keys[i], m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

void sl__strmap_put(sl__strmap *m, const char *key, void *val)
{
    insert_slot(m->keys, m->vals, m->cap, key, val);
    m->n++;
}

void *sl__strmap_get(const sl__strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
    return NULL;
}

void sl__strmap_release(sl__strmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}
