/*
 * cmd_ledger.c: `slaledger ledger ...`, the commands on a channel's ledger: genesis (build and
 * sign a genesis block from a channel document), create (a ledger database from it), verify (the
 * offline audit, sl_ledger_verify), blocks (list block headers), proof (an inclusion proof of a
 * transaction), check-proof (check one offline against the genesis alone) and tx (show one
 * transaction with its block, position and validation code).
 *
 * Everything but genesis and create opens the ledger read-only and reads no block beyond the
 * head it replayed, so these commands never change a ledger (verify audits one snapshot with
 * the library's own connection, so a node may keep writing meanwhile). Each ledger or
 * buffer is released on every path out. Output and exit codes are described in docs/cli.md.
 * Not thread-safe (stdio).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "slaledger/ident.h"
#include "slaledger/ledger.h"
#include "slaledger/tx.h"
#include "slaledger/util.h"

#include "cli.h"

#define HEX_HASH       (2 * SL_HASH_LEN + 1)
#define DOC_FILE_MAX   (1 << 20)
#define CERT_FILE_MAX  (64 << 10)
#define BLOCK_FILE_MAX (SL_CHANNEL_MAX_BLOCK_BYTES + (1 << 20))
#define PROOF_FILE_MAX (256 << 20)
#define HASH_PREFIX    12

/* ---- shared ---- */

/* The exit code of a library error about a file: it is missing or unreadable (3), or its
 * content is wrong (1). */
static int exit_of(int rc)
{
    return rc == SL_EIO || rc == SL_ENOENT || rc == SL_EEXIST ? SL_EXIT_IO : SL_EXIT_INVALID;
}

static int open_ledger(const char *command, const char *path, sl_ledger **l)
{
    sl_error err = {0};
    int rc = sl_ledger_open(path, SL_LEDGER_READONLY, l, &err);

    if (rc == 0)
        return 0;
    sl__cli_error(command, path, &err);
    return exit_of(rc);
}

/* Parses a transaction id argument (64 hex digits); 0 or SL_EXIT_USAGE. */
static int parse_txid(const char *command, const char *s, uint8_t id[SL_HASH_LEN])
{
    if (sl_unhex(s, strlen(s), id, SL_HASH_LEN) == 0)
        return 0;
    fprintf(stderr, "slaledger %s: '%s' is not a transaction id (64 hex digits)\n", command, s);
    return SL_EXIT_USAGE;
}

static int missing(const char *command, const char *what, void (*usage)(FILE *))
{
    fprintf(stderr, "slaledger %s: %s is required\n", command, what);
    usage(stderr);
    return SL_EXIT_USAGE;
}

/* What a genesis block says about its channel. */
typedef struct genesis_info {
    char channel[SL_IDENT_NAME_CAP];
    char hash[HEX_HASH];
    char time[32];
} genesis_info;

static int genesis_describe(const uint8_t *p, size_t len, genesis_info *gi, sl_error *err)
{
    sl_block *b = NULL;
    sl_channel_spec *ch = NULL;
    uint8_t hash[SL_HASH_LEN];
    int rc = sl_block_decode(p, len, &b, err);

    if (rc == 0 && b->n != 1)
        rc = sl_error_set(err, SL_EINVAL, "genesis", "not a genesis block");
    if (rc == 0 &&
        sl_channel_parse((const char *)b->txs[0], b->tx_lens[0], "genesis", &ch, NULL) != 0)
        rc = sl_error_set(err, SL_EINVAL, "genesis", "its channel document does not parse");
    if (rc == 0 && (rc = sl_block_hash(&b->header, hash)) != 0)
        sl_error_set(err, rc, NULL, "out of memory");
    if (rc == 0) {
        sl_strfmt(gi->channel, sizeof(gi->channel), "%s", ch->name);
        sl_hex(hash, SL_HASH_LEN, gi->hash);
        sl_time_format(b->header.time_ms, gi->time, sizeof(gi->time));
    }
    sl_channel_spec_free(ch);
    sl_block_free(b);
    return rc;
}

static json_t *genesis_json(const char *file_key, const char *file, const genesis_info *gi)
{
    return json_pack("{s:o, s:o, s:s, s:s}", file_key, sl__cli_jstr(file), "channel",
                     sl__cli_jstr(gi->channel), "genesis", gi->hash, "time", gi->time);
}

/* ---- ledger genesis ---- */

static void genesis_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger ledger genesis CHANNEL_DOC --key FILE --cert FILE --out FILE "
            "[--json]\n\n"
            "Builds the genesis block of a channel from its channel document, signed now by a\n"
            "node of a member organization, and writes the block's bytes to a new file. The\n"
            "genesis block's hash names the channel.\n\n"
            "options:\n"
            "  --key FILE   the orderer node's secret key\n"
            "  --cert FILE  the node's certificate (role node, by a member organization)\n"
            "  --out FILE   the genesis block file to create (never overwritten)\n"
            "  --json       print {file, channel, genesis, time} instead\n"
            "  -h, --help   show this help\n\n"
            "exit status: 0 written, 1 invalid channel document, key or certificate,\n"
            "             2 usage error, 3 a file cannot be read, or FILE exists or cannot\n"
            "             be written\n");
}

/* The orderer's key and certificate; 0 or an exit code after printing why. */
static int load_orderer(const char *command, const char *key_path, const char *cert_path,
                        sl_key **key, sl_cert *cert)
{
    sl_buf text;
    sl_error err = {0};
    int rc;

    sl_buf_init(&text);
    rc = sl__cli_read_file(command, cert_path, CERT_FILE_MAX, &text);
    if (rc == 0 && (rc = sl_cert_read_json((const char *)text.p, text.len, cert, &err)) != 0) {
        sl__cli_error(command, cert_path, &err);
        rc = SL_EXIT_INVALID;
    }
    sl_buf_release(&text);
    if (rc == 0 && (rc = sl_key_load(key_path, key, &err)) != 0) {
        sl__cli_error(command, key_path, &err);
        rc = exit_of(rc);
    }
    return rc;
}

static int genesis_write(const char *out, const sl_buf *block, int json)
{
    genesis_info gi;
    sl_error err = {0};
    int rc = sl__cli_write_new("ledger genesis", out, block->p, block->len, 0644);

    if (rc != 0)
        return rc;
    if (genesis_describe(block->p, block->len, &gi, &err) != 0) {
        sl__cli_error("ledger genesis", out, &err);
        return SL_EXIT_INVALID;
    }
    if (json)
        return sl__cli_print_json("ledger genesis", genesis_json("file", out, &gi));
    printf("%s: genesis of channel %s at %s, hash %s\n", out, gi.channel, gi.time, gi.hash);
    return 0;
}

static int cmd_genesis(int argc, char **argv)
{
    const char *key_path = NULL, *cert_path = NULL, *out = NULL, *cmd = "ledger genesis";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--key", &key_path, NULL},
                            {"--cert", &cert_path, NULL},
                            {"--out", &out, NULL},
                            {"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, genesis_usage, opts, 4, 1, 1};
    sl_buf doc, block;
    sl_key *key = NULL;
    sl_cert cert;
    sl_error err = {0};

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if (!key_path || !cert_path || !out)
        return missing(cmd, !key_path ? "--key" : !cert_path ? "--cert" : "--out", genesis_usage);
    sl_buf_init(&doc);
    sl_buf_init(&block);
    if ((rc = sl__cli_read_file(cmd, argv[1], DOC_FILE_MAX, &doc)) ||
        (rc = load_orderer(cmd, key_path, cert_path, &key, &cert)))
        goto out;
    if (sl_genesis_build((const char *)doc.p, doc.len, key, &cert, sl__cli_now_ms(), &block,
                         &err) != 0) {
        sl__cli_error(cmd, argv[1], &err);
        rc = SL_EXIT_INVALID;
        goto out;
    }
    rc = genesis_write(out, &block, json);
out:
    sl_key_free(key);
    sl_buf_release(&doc);
    sl_buf_release(&block);
    return rc;
}

/* ---- ledger create ---- */

static void create_usage(FILE *out)
{
    fprintf(out, "usage: slaledger ledger create DB --genesis FILE [--json]\n\n"
                 "Creates a new ledger database DB (which must not exist) holding the channel's\n"
                 "genesis block.\n\n"
                 "options:\n"
                 "  --genesis FILE  the genesis block (from slaledger ledger genesis)\n"
                 "  --json          print {db, channel, genesis, time} instead\n"
                 "  -h, --help      show this help\n\n"
                 "exit status: 0 created, 1 not a valid genesis block, 2 usage error,\n"
                 "             3 FILE cannot be read, or DB exists or cannot be written\n");
}

static int cmd_create(int argc, char **argv)
{
    const char *genesis = NULL, *cmd = "ledger create";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--genesis", &genesis, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, create_usage, opts, 2, 1, 1};
    sl_buf g;
    sl_error err = {0};
    genesis_info gi;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if (!genesis)
        return missing(cmd, "--genesis FILE", create_usage);
    sl_buf_init(&g);
    if ((rc = sl__cli_read_file(cmd, genesis, BLOCK_FILE_MAX, &g)) != 0)
        goto out;
    if ((rc = sl_ledger_create(argv[1], g.p, g.len, &err)) != 0 ||
        (rc = genesis_describe(g.p, g.len, &gi, &err)) != 0) {
        if (rc == SL_EEXIST)
            err.field[0] = '\0'; /* "path" adds nothing to "DB: DB already exists" */
        sl__cli_error(cmd, rc == SL_EEXIST || rc == SL_EIO ? argv[1] : genesis, &err);
        rc = exit_of(rc);
        goto out;
    }
    if (json)
        rc = sl__cli_print_json(cmd, genesis_json("db", argv[1], &gi));
    else
        printf("%s: created ledger of channel %s, genesis %s\n", argv[1], gi.channel, gi.hash);
out:
    sl_buf_release(&g);
    return rc;
}

/* ---- ledger verify ---- */

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger ledger verify [--json] DB\n\n"
            "Audits the ledger database DB from its genesis, trusting nothing else stored: every\n"
            "header, hash link, orderer and transaction signature, Merkle root, validation code\n"
            "and state hash is recomputed by replaying all transactions, and every derived\n"
            "column stored (blocks, transactions, events, history, world state) must match.\n"
            "Prints DB: ok: N blocks, M transactions (K valid) on stdout, or DB: block H:\n"
            "REASON for the first difference on stderr (table, row, column, both values).\n"
            "A progress bar is drawn on stderr when it is a terminal.\n\n"
            "options:\n"
            "  --json      print {file, ok, blocks, transactions, valid, bad_height, error}\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 the ledger verifies, 1 it does not, 2 usage error,\n"
            "             3 DB cannot be read\n");
}

static void progress_cb(void *arg, uint64_t done, uint64_t total)
{
    const char *path = arg;
    const int width = 32;
    int fill = total ? (int)(done * (uint64_t)width / total) : width;
    char bar[33];

    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(width - fill));
    bar[width] = '\0';
    fprintf(stderr, "\r%s: [%s] %llu/%llu blocks", path, bar, (unsigned long long)done,
            (unsigned long long)total);
    fflush(stderr);
}

static json_t *verify_json(const char *path, int rc, const sl_verify_result *res)
{
    return json_pack("{s:o, s:b, s:I, s:I, s:I, s:o, s:o}", "file", sl__cli_jstr(path), "ok",
                     rc == 0, "blocks", (json_int_t)res->blocks, "transactions",
                     (json_int_t)res->txs, "valid", (json_int_t)res->valid, "bad_height",
                     res->bad_height >= 0 ? json_integer(res->bad_height) : json_null(), "error",
                     rc ? sl__cli_json_error(&res->err) : json_null());
}

/* The reason without a leading "block H: " that would repeat the height printed before it. */
static const char *verify_reason(int rc, const sl_verify_result *res)
{
    char prefix[40];
    size_t n;

    if (res->err.msg[0] == '\0')
        return sl_strerror(rc);
    sl_strfmt(prefix, sizeof(prefix), "block %lld: ", (long long)res->bad_height);
    n = strlen(prefix);
    return strncmp(res->err.msg, prefix, n) == 0 ? res->err.msg + n : res->err.msg;
}

static void verify_text(const char *path, int rc, const sl_verify_result *res)
{
    if (rc == 0)
        printf("%s: ok: %llu blocks, %llu transactions (%llu valid)\n", path,
               (unsigned long long)res->blocks, (unsigned long long)res->txs,
               (unsigned long long)res->valid);
    else if (res->bad_height >= 0)
        fprintf(stderr, "%s: block %lld: %s\n", path, (long long)res->bad_height,
                verify_reason(rc, res));
    else
        sl__cli_error("ledger verify", path, &res->err); /* not a finding: it could not start */
}

static int cmd_verify(int argc, char **argv)
{
    int json = 0, nargs, rc, tty;
    const sl__opt opts[] = {{"--json", NULL, &json}};
    const sl__cli_spec spec = {"ledger verify", verify_usage, opts, 1, 1, 1};
    sl_verify_result res;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    tty = isatty(STDERR_FILENO);
    rc = sl_ledger_verify(argv[1], tty ? progress_cb : NULL, argv[1], &res);
    if (tty)
        fprintf(stderr, "\r\033[K"); /* clear the progress line */
    if (json) {
        if (sl__cli_print_json("ledger verify", verify_json(argv[1], rc, &res)) != 0)
            return SL_EXIT_IO;
    } else {
        verify_text(argv[1], rc, &res);
    }
    if (rc == 0)
        return SL_EXIT_OK;
    return rc == SL_EIO ? SL_EXIT_IO : SL_EXIT_INVALID;
}

/* ---- ledger blocks ---- */

static void blocks_usage(FILE *out)
{
    fprintf(out, "usage: slaledger ledger blocks [--from H] [--to H] [--json] DB\n\n"
                 "Lists the blocks of DB from height --from (default 0, the genesis) to --to\n"
                 "(default: the head), one line each: height, time, transactions, valid ones,\n"
                 "the first 12 hex digits of the block hash, and the orderer as subject@org.\n\n"
                 "options:\n"
                 "  --from H    first height to list\n"
                 "  --to H      last height to list (later than the head lists up to the head)\n"
                 "  --json      print one JSON array of {height, time, time_ms, transactions,\n"
                 "              valid, hash, orderer: {subject, org}} instead\n"
                 "  -h, --help  show this help\n\n"
                 "exit status: 0 listed, 1 --from is beyond the head or the ledger does not\n"
                 "             open (see slaledger ledger verify), 2 usage error,\n"
                 "             3 DB cannot be read\n");
}

/* One block's line or object. */
typedef struct block_row {
    uint64_t height;
    int64_t time_ms;
    size_t n_tx, n_valid;
    char hash[HEX_HASH];
    char subject[SL_IDENT_NAME_CAP];
    char org[SL_IDENT_NAME_CAP];
} block_row;

static int block_row_read(sl_ledger *l, uint64_t h, sl_buf *scratch, block_row *row, sl_error *err)
{
    sl_block *b = NULL;
    uint8_t hash[SL_HASH_LEN];
    int rc;

    sl_buf_reset(scratch);
    if ((rc = sl_ledger_block(l, h, scratch, err)) ||
        (rc = sl_block_decode(scratch->p, scratch->len, &b, err)))
        return rc;
    row->height = b->header.height;
    row->time_ms = b->header.time_ms;
    row->n_tx = b->n;
    memcpy(row->subject, b->header.orderer.subject, sizeof(row->subject));
    memcpy(row->org, b->header.orderer.org, sizeof(row->org));
    rc = sl_block_hash(&b->header, hash);
    sl_block_free(b);
    if (rc)
        return sl_error_set(err, rc, NULL, "out of memory");
    sl_hex(hash, SL_HASH_LEN, row->hash);
    sl_buf_reset(scratch);
    if ((rc = sl_ledger_block_codes(l, h, scratch, err)))
        return rc;
    row->n_valid = 0;
    for (size_t i = 0; i < scratch->len; i++)
        row->n_valid += scratch->p[i] == SL_TXC_VALID;
    return 0;
}

static json_t *block_row_json(const block_row *r)
{
    char when[32];

    sl_time_format(r->time_ms, when, sizeof(when));
    return json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:{s:o, s:o}}", "height",
                     (json_int_t)r->height, "time", when, "time_ms", (json_int_t)r->time_ms,
                     "transactions", (json_int_t)r->n_tx, "valid", (json_int_t)r->n_valid, "hash",
                     r->hash, "orderer", "subject", sl__cli_jstr(r->subject), "org",
                     sl__cli_jstr(r->org));
}

static void block_row_print(const block_row *r)
{
    char when[32];

    sl_time_format(r->time_ms, when, sizeof(when));
    printf("%6llu  %-24s %5zu tx %5zu valid  %.*s  %s@%s\n", (unsigned long long)r->height, when,
           r->n_tx, r->n_valid, HASH_PREFIX, r->hash, r->subject, r->org);
}

/* Lists heights [from, to]; arr collects JSON rows when not NULL. */
static int blocks_list(const char *path, sl_ledger *l, uint64_t from, uint64_t to, json_t *arr)
{
    sl_buf scratch;
    sl_error err = {0};
    block_row row;
    int rc = 0;

    sl_buf_init(&scratch);
    for (uint64_t h = from; h <= to; h++) {
        if (block_row_read(l, h, &scratch, &row, &err) != 0) {
            sl__cli_error("ledger blocks", path, &err);
            rc = SL_EXIT_INVALID;
            break;
        }
        if (!arr) {
            block_row_print(&row);
        } else if (json_array_append_new(arr, block_row_json(&row)) != 0) {
            fprintf(stderr, "slaledger ledger blocks: cannot produce JSON output\n");
            rc = SL_EXIT_IO;
            break;
        }
    }
    sl_buf_release(&scratch);
    return rc;
}

/* The range from the options; 0 or an exit code. */
static int blocks_range(const char *from_s, const char *to_s, uint64_t head, uint64_t *from,
                        uint64_t *to)
{
    int64_t f = 0, t = INT64_MAX;
    int rc;

    if ((from_s && (rc = sl__cli_int("ledger blocks", "--from", from_s, 0, INT64_MAX, &f))) ||
        (to_s && (rc = sl__cli_int("ledger blocks", "--to", to_s, 0, INT64_MAX, &t))))
        return rc;
    if (f > t) {
        fprintf(stderr, "slaledger ledger blocks: --from %lld is after --to %lld\n", (long long)f,
                (long long)t);
        return SL_EXIT_USAGE;
    }
    if ((uint64_t)f > head) {
        fprintf(stderr, "slaledger ledger blocks: --from %lld: the head is block %llu\n",
                (long long)f, (unsigned long long)head);
        return SL_EXIT_INVALID;
    }
    *from = (uint64_t)f;
    *to = (uint64_t)t < head ? (uint64_t)t : head;
    return 0;
}

static int cmd_blocks(int argc, char **argv)
{
    const char *from_s = NULL, *to_s = NULL, *cmd = "ledger blocks";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {
        {"--from", &from_s, NULL}, {"--to", &to_s, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, blocks_usage, opts, 3, 1, 1};
    sl_ledger *l = NULL;
    json_t *arr = NULL;
    uint64_t from, to;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = open_ledger(cmd, argv[1], &l)) ||
        (rc = blocks_range(from_s, to_s, sl_ledger_height(l, NULL), &from, &to)))
        goto out;
    if (json && !(arr = json_array())) {
        rc = sl__cli_print_json(cmd, NULL);
        goto out;
    }
    if ((rc = blocks_list(argv[1], l, from, to, arr)) == 0 && json) {
        rc = sl__cli_print_json(cmd, arr);
        arr = NULL;
    }
out:
    json_decref(arr);
    sl_ledger_close(l);
    return rc;
}

/* ---- ledger proof ---- */

static void proof_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger ledger proof DB TXID [--out FILE] [--json]\n\n"
            "Writes an inclusion proof of transaction TXID (64 hex digits) as JSON: the\n"
            "transaction, the Merkle path to its block, the block's validation codes and the\n"
            "signed headers up to the head. Anyone holding the channel's genesis block can check\n"
            "it offline (slaledger ledger check-proof). The proof is checked before it is given\n"
            "out. Without --out it is printed on stdout.\n\n"
            "options:\n"
            "  --out FILE  write the proof to a new file instead, and print a summary line\n"
            "  --json      with --out: print the summary as {file, id, height, index, head}\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 written, 1 unknown transaction or the ledger does not open,\n"
            "             2 usage error, 3 DB cannot be read, or FILE exists or cannot be\n"
            "             written\n");
}

/* Builds the proof of id into out and checks it against the ledger's own genesis. */
static int proof_build(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_buf *out, sl_proof_info *pi,
                       sl_error *err)
{
    sl_buf genesis;
    int rc;

    sl_buf_init(&genesis);
    rc = sl_ledger_proof(l, id, out, err);
    if (rc == 0)
        rc = sl_ledger_block(l, 0, &genesis, err);
    if (rc == 0 &&
        (rc = sl_proof_check((const char *)out->p, out->len, genesis.p, genesis.len, pi, err)) != 0)
        sl_strfmt(err->field, sizeof(err->field), "the ledger's own proof does not check");
    sl_buf_release(&genesis);
    return rc;
}

static int proof_summary(const char *out, const sl_proof_info *pi, int json)
{
    char id[HEX_HASH];

    sl_hex(pi->id, SL_HASH_LEN, id);
    if (json)
        return sl__cli_print_json("ledger proof",
                                  json_pack("{s:o, s:s, s:I, s:I, s:I}", "file", sl__cli_jstr(out),
                                            "id", id, "height", (json_int_t)pi->height, "index",
                                            (json_int_t)pi->index, "head", (json_int_t)pi->head));
    printf("%s: proof of transaction %s in block %llu at index %llu, up to head %llu\n", out, id,
           (unsigned long long)pi->height, (unsigned long long)pi->index,
           (unsigned long long)pi->head);
    return 0;
}

static int cmd_proof(int argc, char **argv)
{
    const char *out = NULL, *cmd = "ledger proof";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--out", &out, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, proof_usage, opts, 2, 2, 2};
    uint8_t id[SL_HASH_LEN];
    sl_ledger *l = NULL;
    sl_proof_info pi;
    sl_error err = {0};
    sl_buf proof;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = parse_txid(cmd, argv[2], id)) || (rc = open_ledger(cmd, argv[1], &l)))
        return rc;
    sl_buf_init(&proof);
    if ((rc = proof_build(l, id, &proof, &pi, &err)) != 0) {
        sl__cli_error(cmd, rc == SL_ENOENT ? argv[2] : argv[1], &err);
        rc = rc == SL_EIO ? SL_EXIT_IO : SL_EXIT_INVALID;
    } else if (!out) {
        fwrite(proof.p, 1, proof.len, stdout);
    } else if ((rc = sl__cli_write_new(cmd, out, proof.p, proof.len, 0644)) == 0) {
        rc = proof_summary(out, &pi, json);
    }
    sl_buf_release(&proof);
    sl_ledger_close(l);
    return rc;
}

/* ---- ledger check-proof ---- */

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger ledger check-proof FILE --genesis FILE [--json]\n\n"
            "Checks an inclusion proof offline with nothing but the channel's genesis block:\n"
            "the transaction's signature and certificate against the channel's members, its\n"
            "Merkle path to the block's root, the validation codes against the block header,\n"
            "and every header's orderer signature and hash link up to the signed head. Prints\n"
            "the block height, index, head, validation code, signer and type of the proven\n"
            "transaction. A proof of an invalid transaction checks too: it proves the code.\n\n"
            "options:\n"
            "  --genesis FILE  the channel's genesis block\n"
            "  --json          print {file, valid, id, height, index, head, code, signer,\n"
            "                  org, type} or {file, valid: false, error} instead\n"
            "  -h, --help      show this help\n\n"
            "exit status: 0 the proof checks, 1 it does not (or the genesis is invalid),\n"
            "             2 usage error, 3 a file cannot be read\n");
}

static json_t *check_json(const char *path, const sl_proof_info *pi, const sl_error *err)
{
    char id[HEX_HASH];

    if (err)
        return json_pack("{s:o, s:b, s:o}", "file", sl__cli_jstr(path), "valid", 0, "error",
                         sl__cli_json_error(err));
    sl_hex(pi->id, SL_HASH_LEN, id);
    return json_pack("{s:o, s:b, s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:s}", "file",
                     sl__cli_jstr(path), "valid", 1, "id", id, "height", (json_int_t)pi->height,
                     "index", (json_int_t)pi->index, "head", (json_int_t)pi->head, "code",
                     sl_txcode_name(pi->code), "signer", sl__cli_jstr(pi->signer), "org",
                     sl__cli_jstr(pi->org), "type", sl_tx_type_name(pi->type));
}

static void check_text(const char *path, const sl_proof_info *pi)
{
    char id[HEX_HASH];

    sl_hex(pi->id, SL_HASH_LEN, id);
    printf("%s: ok: transaction %s: %s by %s@%s in block %llu at index %llu, code %s, "
           "proven up to head %llu\n",
           path, id, sl_tx_type_name(pi->type), pi->signer, pi->org, (unsigned long long)pi->height,
           (unsigned long long)pi->index, sl_txcode_name(pi->code), (unsigned long long)pi->head);
}

static int cmd_check_proof(int argc, char **argv)
{
    const char *genesis = NULL, *cmd = "ledger check-proof";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--genesis", &genesis, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, check_usage, opts, 2, 1, 1};
    sl_buf proof, g;
    sl_proof_info pi;
    sl_error err = {0};

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if (!genesis)
        return missing(cmd, "--genesis FILE", check_usage);
    sl_buf_init(&proof);
    sl_buf_init(&g);
    if ((rc = sl__cli_read_file(cmd, argv[1], PROOF_FILE_MAX, &proof)) ||
        (rc = sl__cli_read_file(cmd, genesis, BLOCK_FILE_MAX, &g)))
        goto out;
    rc = sl_proof_check((const char *)proof.p, proof.len, g.p, g.len, &pi, &err);
    if (json && sl__cli_print_json(cmd, check_json(argv[1], &pi, rc ? &err : NULL)) != 0)
        rc = SL_EXIT_IO;
    else if (!json && rc)
        sl__cli_error(cmd, argv[1], &err);
    else if (!json)
        check_text(argv[1], &pi);
    if (rc && rc != SL_EXIT_IO)
        rc = SL_EXIT_INVALID;
out:
    sl_buf_release(&proof);
    sl_buf_release(&g);
    return rc;
}

/* ---- ledger tx ---- */

static void tx_usage(FILE *out)
{
    fprintf(out, "usage: slaledger ledger tx DB TXID [--json]\n\n"
                 "Shows transaction TXID (64 hex digits) of ledger DB: its block, its index in\n"
                 "the block, its validation code and the reason when it is not valid, how often\n"
                 "its bytes were submitted, and the transaction itself. When the same bytes were\n"
                 "replayed, the valid occurrence is shown (the one a proof proves).\n\n"
                 "options:\n"
                 "  --json      print {id, block, index, code, reason, copies, size,\n"
                 "              transaction} instead (transaction is null if it does not decode)\n"
                 "  -h, --help  show this help\n\n"
                 "exit status: 0 shown, 1 unknown transaction or the ledger does not open,\n"
                 "             2 usage error, 3 DB cannot be read\n");
}

/* The decoded transaction as a JSON value (null when the bytes do not decode). */
static json_t *tx_body_json(const sl_buf *bytes)
{
    sl_tx_decoded *d = NULL;
    sl_buf text;
    json_t *j = NULL;
    sl_error err = {0};

    if (sl_tx_decode(bytes->p, bytes->len, SIZE_MAX, &d, &err) != 0)
        return json_null();
    sl_buf_init(&text);
    if (sl_tx_to_json(d, &text) == 0)
        j = json_loadb((const char *)text.p, text.len, 0, NULL);
    sl_buf_release(&text);
    sl_tx_free(d);
    return j;
}

static int tx_print(const char *txid, const sl_tx_record *rec, const sl_buf *bytes, int json)
{
    json_t *body = tx_body_json(bytes);

    if (json)
        return sl__cli_print_json(
            "ledger tx", json_pack("{s:s, s:I, s:I, s:s, s:o, s:I, s:I, s:o}", "id", txid, "block",
                                   (json_int_t)rec->height, "index", (json_int_t)rec->index, "code",
                                   sl_txcode_name(rec->code), "reason", sl__cli_jstr(rec->reason),
                                   "copies", (json_int_t)rec->copies, "size",
                                   (json_int_t)bytes->len, "transaction", body));
    printf("transaction %s\n  block   %llu, index %llu\n  code    %s%s%s\n  copies  %u\n", txid,
           (unsigned long long)rec->height, (unsigned long long)rec->index,
           sl_txcode_name(rec->code), rec->reason[0] ? ": " : "", rec->reason, rec->copies);
    if (body && json_is_null(body)) {
        printf("  (%zu bytes that do not decode as a transaction)\n", bytes->len);
        json_decref(body);
        return 0;
    }
    return sl__cli_print_json("ledger tx", body); /* reports a NULL body (out of memory) */
}

static int cmd_tx(int argc, char **argv)
{
    const char *cmd = "ledger tx";
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--json", NULL, &json}};
    const sl__cli_spec spec = {cmd, tx_usage, opts, 1, 2, 2};
    uint8_t id[SL_HASH_LEN];
    sl_ledger *l = NULL;
    sl_tx_record rec;
    sl_error err = {0};
    sl_buf bytes;
    char txid[HEX_HASH];

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = parse_txid(cmd, argv[2], id)) || (rc = open_ledger(cmd, argv[1], &l)))
        return rc;
    sl_buf_init(&bytes);
    sl_hex(id, SL_HASH_LEN, txid);
    if ((rc = sl_ledger_tx(l, id, &rec, &bytes, &err)) != 0) {
        sl__cli_error(cmd, rc == SL_ENOENT ? argv[2] : argv[1], &err);
        rc = rc == SL_EIO ? SL_EXIT_IO : SL_EXIT_INVALID;
    } else {
        rc = tx_print(txid, &rec, &bytes, json);
    }
    sl_buf_release(&bytes);
    sl_ledger_close(l);
    return rc;
}

/* ---- ledger ---- */

static const sl_cmd ledger_commands[] = {
    {"genesis", cmd_genesis, "build and sign a channel's genesis block"},
    {"create", cmd_create, "create a ledger database from a genesis block"},
    {"verify", cmd_verify, "audit a ledger from its genesis"},
    {"blocks", cmd_blocks, "list blocks: height, time, transactions, hash, orderer"},
    {"proof", cmd_proof, "write an inclusion proof of a transaction"},
    {"check-proof", cmd_check_proof, "check an inclusion proof against a genesis block"},
    {"tx", cmd_tx, "show one transaction, its block and validation code"},
};

int sl__cmd_ledger(int argc, char **argv)
{
    return sl__cli_group("ledger", ledger_commands,
                         sizeof(ledger_commands) / sizeof(ledger_commands[0]), argc, argv);
}
