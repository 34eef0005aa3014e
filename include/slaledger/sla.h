/*
 * slaledger/sla.h: SLA agreement documents (YAML or JSON) and their validated model.
 *
 * sl_sla_parse turns a document into an sl_agreement_spec in which every cross reference is
 * resolved to an index and every quantity is an integer in a fixed unit (see sl_metric). A spec
 * that parsed is internally consistent: the contract relies on that and does not re-check it.
 * Parsing is deterministic and does no I/O (sl_sla_parse_file only reads the file first), so
 * every node turns the same bytes into the same model. The spec is immutable once built; it is
 * owned by whoever holds the pointer and released with sl_agreement_spec_free.
 * The document format is described in docs/sla-format.md.
 */
#ifndef SLALEDGER_SLA_H
#define SLALEDGER_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"

#define SL_MAX_ORACLES     64 /* members of one agreement's oracle set (bit mask) */
#define SL_MAX_SERVICES    256
#define SL_MAX_OBJECTIVES  256
#define SL_MAX_TIERS       16
#define SL_MAX_WINDOWS     100000   /* windows of one objective over the period */
#define SL_MAX_INTERVALS   50000000 /* intervals of one objective over the period */
#define SL_MIN_INTERVAL_MS 1000
#define SL_NAME_MAX        63 /* names: [a-z0-9] then [a-z0-9._-], at most 63 bytes */

typedef enum sl_service_kind {
    SL_SVC_AWS_EC2,      /* "aws.ec2" */
    SL_SVC_AZURE_VM,     /* "azure.vm" */
    SL_SVC_HTTP,         /* "http" */
    SL_SVC_PROMETHEUS,   /* "prometheus" */
    SL_SVC_PUSH,         /* "push" */
    SL_SVC_POSTGRESQL,   /* "postgresql" */
    SL_SVC_PROCESS_STEP, /* "process-step" */
} sl_service_kind;

/*
 * What an objective measures, and the unit of report values and targets:
 *   availability      ppm of the interval the service was up (0..1000000)
 *   response_time,
 *   processing_time,
 *   delay             milliseconds (at the objective's percentile)
 *   throughput        milli-requests per second ("100/s" -> 100000)
 *   error_rate        ppm of requests that failed
 *   durability, integrity, confidentiality, retention, deletion
 *                     check objectives: 1 = check passed, 0 = failed
 */
typedef enum sl_metric {
    SL_METRIC_AVAILABILITY,
    SL_METRIC_RESPONSE_TIME,
    SL_METRIC_THROUGHPUT,
    SL_METRIC_PROCESSING_TIME,
    SL_METRIC_DELAY,
    SL_METRIC_ERROR_RATE,
    SL_METRIC_DURABILITY,
    SL_METRIC_INTEGRITY,
    SL_METRIC_CONFIDENTIALITY,
    SL_METRIC_RETENTION,
    SL_METRIC_DELETION,
} sl_metric;

/** True for the pass/fail check metrics (durability .. deletion). */
int sl_metric_is_check(sl_metric m);

/** How the reports of several oracles for one interval become one decided value. */
typedef enum sl_policy {
    SL_POLICY_MEDIAN, /* median of the reports (mean of the middle two, floored) */
    SL_POLICY_MIN,
    SL_POLICY_MAX,
    SL_POLICY_ALL_AGREE, /* every report must classify the interval the same way */
    SL_POLICY_K_OF_N,    /* `quorum` reports must classify it the same way */
} sl_policy;

/*
 * Windows. Calendar hours and days are fixed durations in UTC (3600000 and 86400000 ms), so
 * they are SL_WINDOW_DURATION; months are not. Duration windows are anchored at the Unix epoch
 * (so "1d" windows are UTC days), months at UTC month starts; every window is clipped to the
 * agreement's period. SL_WINDOW_PERIOD is one window covering the whole period.
 */
typedef enum sl_window_kind {
    SL_WINDOW_DURATION,
    SL_WINDOW_MONTH,
    SL_WINDOW_PERIOD,
} sl_window_kind;

typedef struct sl_window_spec {
    sl_window_kind kind;
    int64_t len_ms; /* SL_WINDOW_DURATION only; 0 otherwise */
} sl_window_spec;

typedef enum sl_cmp {
    SL_CMP_GE, /* the measured value must be >= target */
    SL_CMP_LE, /* the measured value must be <= target */
} sl_cmp;

/** What intervals without a decision (no quorum, disagreement) count as in window figures. */
typedef enum sl_unknown_policy {
    SL_UNKNOWN_EXCLUDE, /* left out of good / (good + bad); the default */
    SL_UNKNOWN_GOOD,
    SL_UNKNOWN_BAD,
} sl_unknown_policy;

typedef struct sl_kv {
    char *key;
    char *value;
} sl_kv;

typedef struct sl_service_spec {
    char *name;
    sl_service_kind kind;
    sl_kv *source; /* kind-specific settings, sorted by key, keys unique */
    size_t n_source;
} sl_service_spec;

typedef struct sl_objective_spec {
    char *name;
    uint32_t service; /* index into spec->services */
    sl_metric metric;
    uint32_t percentile_milli; /* 95 -> 95000, 99.9 -> 99900; 0 = not given */
    int64_t interval_ms;       /* length of one measured interval; divides the window grid */
    sl_window_spec window;
    sl_cmp cmp;     /* availability, throughput, checks: GE; times, error_rate: LE */
    int64_t target; /* in the metric's unit; checks: 1 */
    /* availability only: an interval is good when the decided up-ppm is >= this (default 100 %) */
    int64_t good_ppm;
    sl_unknown_policy unknown;
    /* the oracles whose reports count, as a bit mask over spec->oracles; policy and quorum */
    uint64_t oracle_mask;
    sl_policy policy;
    uint32_t quorum; /* 1 <= quorum <= number of bits in oracle_mask */
    char *query;     /* optional source query (e.g. PromQL) for this objective; NULL if none */
} sl_objective_spec;

typedef struct sl_tier {
    int64_t below_ppm;  /* the tier applies when window availability < below_ppm */
    int64_t credit_ppm; /* credit as ppm of the window's share of the fee */
} sl_tier;

typedef enum sl_penalty_kind {
    SL_PENALTY_TIERS,         /* availability: tiered credit, tiers sorted by below_ppm desc */
    SL_PENALTY_PER_VIOLATION, /* interval objectives: `amount` per violating interval */
    SL_PENALTY_PER_FAILURE,   /* check objectives: `amount` per failed check */
} sl_penalty_kind;

typedef enum sl_cap_kind {
    SL_CAP_NONE,   /* only the window's share of the fee limits it */
    SL_CAP_PPM,    /* cap = ppm of the window's share of the fee */
    SL_CAP_AMOUNT, /* cap = minor units per window */
} sl_cap_kind;

typedef struct sl_penalty_spec {
    uint32_t objective; /* index into spec->objectives; at most one penalty per objective */
    sl_penalty_kind kind;
    sl_tier *tiers; /* SL_PENALTY_TIERS: below strictly decreasing, credit strictly increasing */
    size_t n_tiers;
    int64_t amount; /* per violation / failure, minor units, > 0 */
    sl_cap_kind cap_kind;
    int64_t cap;
} sl_penalty_spec;

typedef struct sl_agreement_spec {
    char *name;        /* metadata.name: the agreement's id on its channel */
    char *description; /* NULL if none */
    char *channel;
    char *consumer;
    char *provider;   /* != consumer */
    int64_t start_ms; /* period [start, end), both aligned to every objective's interval */
    int64_t end_ms;
    int64_t fee;            /* minor units, > 0 */
    char currency[4];       /* ISO 4217 code, upper case */
    unsigned minor_units;   /* decimals of the currency (EUR 2, JPY 0, ...) */
    sl_window_spec billing; /* settlement windows; every objective window nests in one */
    int64_t grace_ms;       /* reports for an interval are accepted until its end + grace */
    sl_service_spec *services;
    size_t n_services;
    char **oracles; /* oracle identity names, unique */
    size_t n_oracles;
    sl_objective_spec *objectives;
    size_t n_objectives;
    sl_penalty_spec *penalties;
    size_t n_penalties;
} sl_agreement_spec;

/**
 * Parses and validates an agreement document (YAML 1.2 or JSON) held in text[0..len).
 * filename is used only in messages (may be NULL). On success *out is a new spec the caller
 * frees with sl_agreement_spec_free and 0 is returned. On failure *out is NULL, every problem
 * found (up to SL_DIAGS_MAX) is appended to diags with line, column and field, and the first
 * error's code is returned (SL_EPARSE for syntax, SL_EINVAL or SL_EOVERFLOW for content,
 * SL_ENOMEM). diags may be NULL.
 */
int sl_sla_parse(const char *text, size_t len, const char *filename, sl_agreement_spec **out,
                 sl_diags *diags) __attribute__((warn_unused_result));

/** Reads path and calls sl_sla_parse. A read failure is one SL_EIO diagnostic. */
int sl_sla_parse_file(const char *path, sl_agreement_spec **out, sl_diags *diags)
    __attribute__((warn_unused_result));

/** Frees a spec and everything it owns. Accepts NULL. */
void sl_agreement_spec_free(sl_agreement_spec *spec);

/**
 * The rules between the source keys of an http service (other kinds: 0): a tcp:// url is
 * host:port; cert_expiry needs https; HEAD expects no body; a tcp:// probe has no method,
 * status or body. sl_sla_parse applies them; probes call this for specs built by hand. 0, or
 * SL_EINVAL with err->field "source.KEY".
 */
int sl_service_source_check(const sl_service_spec *s, sl_error *err);

/**
 * Whether service s's source can measure objective o's metric at all, whichever oracle asks:
 * the one table of what each kind of source gives (docs/oracles.md). aws.ec2: availability
 * from any CloudWatch metric, error_rate from a percentage one (sl_cloudwatch_metric_is_percent);
 * azure.vm: availability; prometheus: every metric; http: availability, response_time,
 * error_rate; push and process-step: every interval metric; postgresql: checks only.
 * sl_sla_parse refuses an objective this refuses; oracle adapters call it before they choose
 * how to read a metric. 0, or SL_EINVAL with err (may be NULL; field "metric") saying why.
 */
int sl_objective_measurable(const sl_service_spec *s, const sl_objective_spec *o, sl_error *err);

/** The CloudWatch metric an aws.ec2 service names (source.metric), or "StatusCheckFailed".
 * Borrowed from s; s may be NULL. */
const char *sl_cloudwatch_metric(const sl_service_spec *s);

/** True for the CloudWatch metrics in percent (CPUUtilization, ...), which give an error rate. */
int sl_cloudwatch_metric_is_percent(const char *metric);

/** A deep copy of s into *out (freed with sl_agreement_spec_free). 0, or SL_ENOMEM with *out
 * NULL. */
int sl_agreement_spec_dup(const sl_agreement_spec *s, sl_agreement_spec **out)
    __attribute__((warn_unused_result));

/* ---- channel documents (kind: Channel): the content of a channel's genesis ---- */

/** Roles of a channel's members; an organization's entry lists a mask of them and each member
 * certificate carries exactly one. */
typedef enum sl_role {
    SL_ROLE_CONSUMER = 1 << 0, /* signs agreements as consumer, deposits, withdraws */
    SL_ROLE_PROVIDER = 1 << 1, /* signs agreements as provider, withdraws */
    SL_ROLE_ORACLE = 1 << 2,   /* signs measurement and check reports */
    SL_ROLE_AUDITOR = 1 << 3,  /* reads the ledger; signs nothing that changes state */
    SL_ROLE_ISSUER = 1 << 4,   /* issues tokens */
    SL_ROLE_NODE = 1 << 5,     /* orders and signs blocks, advances time */
} sl_role;

#define SL_ROLE_ALL 0x3f
#define SL_MAX_ORGS 64

/** "consumer", "provider", ...; NULL for anything but a single known role. */
const char *sl_role_name(sl_role r);
/** Parses one role name (NUL-terminated); 0, or SL_EINVAL leaving *out untouched. */
int sl_role_parse(const char *s, sl_role *out);

/* Limits of a channel's ordering settings (docs/channel-format.md). */
#define SL_CHANNEL_MAX_BLOCK_TXS   100000
#define SL_CHANNEL_MIN_BYTES       1024u       /* least max_block_bytes and max_tx_bytes */
#define SL_CHANNEL_MAX_BLOCK_BYTES (64u << 20) /* largest max_block_bytes */
#define SL_CHANNEL_MAX_TX_BYTES    (16u << 20) /* largest max_tx_bytes */
#define SL_CHANNEL_MAX_TIMEOUT_MS  10000       /* block_timeout is 1 ms .. 10 s */

typedef struct sl_channel_org {
    char *name;
    unsigned roles;      /* sl_role mask, not empty */
    uint8_t root_pk[32]; /* Ed25519 public key certifying the organization's members; a valid
                            point of the main subgroup, unique within the channel */
} sl_channel_org;

typedef enum sl_order_kind {
    SL_ORDER_SOLO, /* "solo": the embedded, in-process orderer */
    SL_ORDER_ETCD, /* "etcd": an etcd cluster (endpoints in the node config, not here) */
} sl_order_kind;

typedef struct sl_channel_spec {
    char *name;           /* metadata.name: the channel's name */
    char *description;    /* NULL if none */
    sl_channel_org *orgs; /* 1..SL_MAX_ORGS, unique names and keys, in the order written */
    size_t n_orgs;
    uint32_t issuer; /* index of the token issuer organization (has SL_ROLE_ISSUER) */
    sl_order_kind order;
    /* ordering.orderer of a solo channel: the one node whose blocks its members accept, named
     * by organization and certificate subject. NULL when not written; a ledger opening the
     * genesis then sets them to the node that signed the genesis block. NULL for etcd. */
    char *orderer_org;
    char *orderer_name;
    uint32_t max_block_txs;   /* cut a block at this many transactions (default 500) */
    uint32_t max_block_bytes; /* ... or this many bytes of transactions (default 4 MiB) */
    int64_t block_timeout_ms; /* ... or this long after the first waiting one (default 5 ms) */
    uint32_t max_tx_bytes;    /* larger transactions are refused (default 1 MiB); <= block */
} sl_channel_spec;

/**
 * Parses and validates a channel document (kind: Channel, YAML 1.2 or JSON) held in
 * text[0..len), with the same conventions as sl_sla_parse: on success *out is a new spec the
 * caller frees with sl_channel_spec_free and 0 is returned; on failure *out is NULL, every
 * problem (up to SL_DIAGS_MAX) is appended to diags (may be NULL) with line, column and field,
 * and the first error's code is returned. At least one organization has SL_ROLE_NODE.
 */
int sl_channel_parse(const char *text, size_t len, const char *filename, sl_channel_spec **out,
                     sl_diags *diags) __attribute__((warn_unused_result));

/** Reads path and calls sl_channel_parse. A read failure is one SL_EIO diagnostic. */
int sl_channel_parse_file(const char *path, sl_channel_spec **out, sl_diags *diags)
    __attribute__((warn_unused_result));

/** Frees a channel spec and everything it owns. Accepts NULL. */
void sl_channel_spec_free(sl_channel_spec *spec);

/** The index of the organization named name, or -1 (also when c or name is NULL). */
int sl_channel_org_find(const sl_channel_spec *c, const char *name);

/** Writes a byte size the way channel documents write it: "4MiB", "512KiB" or "1500". Returns
 * the length, or SL_EINVAL when cap is too small (24 bytes always suffice). */
int sl_size_format(int64_t bytes, char *buf, size_t cap);

/** Minor units (decimals) of an ISO 4217 code in the built-in table (EUR 2, JPY 0, KWD 3), or
 * -1 when it is not there (an agreement in such a currency gives its minor_units). */
int sl_currency_minor_units(const char *code);

/** Names as written in documents: "aws.ec2", "availability", "median", ... */
const char *sl_service_kind_name(sl_service_kind k);
const char *sl_metric_name(sl_metric m);
const char *sl_policy_name(sl_policy p);
const char *sl_order_kind_name(sl_order_kind k); /* "solo", "etcd" */

/* ---- node configuration (kind: Node): what one slaledger node runs; docs/node-config.md ---- */

#define SL_NODE_MAX_MEMBERS    1024 /* entries of spec.users, and of spec.oracles */
#define SL_NODE_MAX_CHANNELS   256
#define SL_NODE_MAX_ENDPOINTS  16
#define SL_NODE_PATH_MAX       4095 /* bytes of one file path */
#define SL_NODE_DEFAULT_LISTEN "127.0.0.1:8640"
/* The oracle scheduler (spec.scheduler; sched.h) */
#define SL_NODE_DEFAULT_SCHED_DELAY_MS    10000
#define SL_NODE_MAX_SCHED_DELAY_MS        3600000
#define SL_NODE_DEFAULT_SCHED_TIMEOUT_MS  10000
#define SL_NODE_MAX_SCHED_TIMEOUT_MS      120000
#define SL_NODE_DEFAULT_SCHED_CONCURRENCY 256
#define SL_NODE_MAX_SCHED_CONCURRENCY     100000
#define SL_NODE_MAX_CLOCK_SPEED           100000 /* clock.speed */

typedef enum sl_node_log_format {
    SL_NODE_LOG_TEXT, /* "text": one human-readable line per event (the default) */
    SL_NODE_LOG_JSON, /* "json": one JSON object per line */
} sl_node_log_format;

typedef enum sl_node_log_level {
    SL_NODE_LOG_DEBUG,
    SL_NODE_LOG_INFO, /* the default */
    SL_NODE_LOG_WARN,
    SL_NODE_LOG_ERROR,
} sl_node_log_level;

/** A member whose secret key the node holds, and the files of its key and certificate. */
typedef struct sl_node_member {
    char *name; /* the certificate's subject; NULL for the node's own identity */
    char *org;  /* its organization (spec.organization when not written); NULL for the identity */
    char *key;  /* the secret key file (sl_key_load) */
    char *cert; /* the certificate file (sl_cert_read_json) */
    int line;   /* where the entry starts in the configuration (1-based; 0 if unknown), */
    int column; /* for errors about what its files hold */
} sl_node_member;

/** A channel the node serves. */
typedef struct sl_node_channel {
    char *name;    /* the channel's name, as its genesis says */
    char *genesis; /* the genesis block file */
    char *ledger;  /* the ledger database; <data_dir>/<name>.db when not written */
    char *orderer; /* the API URL of the node that orders the channel, when it is not this
                      node (http or https); NULL when not written */
} sl_node_channel;

/**
 * A node's configuration. Every path is as written, or after sl_node_config_resolve (which
 * sl_node_config_parse_file applies) absolute. Strings are NUL-terminated and owned by the
 * config; optional ones are NULL when absent.
 */
typedef struct sl_node_config {
    char *name;              /* metadata.name: the node's name in logs and the API */
    char *description;       /* NULL if none */
    char *organization;      /* the organization that runs the node */
    char *data_dir;          /* where ledgers and node state live (default "data") */
    char *listen_host;       /* an IPv4 literal or "localhost" (default 127.0.0.1) */
    uint16_t listen_port;    /* 0: any free port (default 8640) */
    sl_node_member identity; /* the node's own member: role node, of `organization` */
    sl_node_member *users;   /* local users the node signs for, (name, org) unique */
    size_t n_users;
    sl_node_member *oracles; /* oracles the node's scheduler runs, unique with the users; names
                                unique (agreements name oracles by name alone) */
    size_t n_oracles;
    sl_node_channel *channels; /* 1..SL_NODE_MAX_CHANNELS; names and ledgers unique */
    size_t n_channels;
    char **etcd_endpoints; /* ordering.etcd.endpoints: http(s) URLs, for etcd channels */
    size_t n_etcd_endpoints;
    char *secrets; /* the secrets file (sl_secrets_parse_file), NULL if none */
    char *tokens;  /* the API tokens file (sl_tokens_parse_file), NULL if none */
    sl_node_log_format log_format;
    sl_node_log_level log_level;
    int64_t sched_delay_ms;     /* scheduler.delay: wait after an interval's end (10s) */
    int64_t sched_timeout_ms;   /* scheduler.timeout: per source request (10s) */
    uint32_t sched_concurrency; /* scheduler.concurrency: transfers at once (256) */
    /* clock: the node's time runs `speed` times faster than the wall clock from the wall time
     * `since` on (at which both agree): now = since + (wall - since) * speed. Block
     * timestamps, transaction expiry and the oracles use it; the contract only ever sees
     * block timestamps. For demos and tests; speed 1 (the default) is the wall clock. */
    uint32_t clock_speed;
    int64_t clock_since_ms; /* -1: when the node starts */
} sl_node_config;

/**
 * Parses and validates a node configuration (kind: Node, YAML 1.2 or JSON) held in
 * text[0..len), with the conventions of sl_sla_parse: on success *out is a new config the
 * caller frees with sl_node_config_free and 0 is returned; on failure *out is NULL, every
 * problem (up to SL_DIAGS_MAX) is appended to diags (may be NULL) with line, column and
 * field, and the first error's code is returned. No I/O: paths are kept as written.
 */
int sl_node_config_parse(const char *text, size_t len, const char *filename, sl_node_config **out,
                         sl_diags *diags) __attribute__((warn_unused_result));

/**
 * Reads path, calls sl_node_config_parse, then resolves every relative path of the config
 * against the directory of path (made absolute with realpath). A read failure is one SL_EIO
 * diagnostic.
 */
int sl_node_config_parse_file(const char *path, sl_node_config **out, sl_diags *diags)
    __attribute__((warn_unused_result));

/**
 * Prefixes every relative path of cfg (data_dir, key, cert, genesis, ledger, secrets, tokens)
 * with dir and "/" (a leading "./" is dropped); absolute paths stay. Pure string work. 0,
 * SL_EINVAL (dir NULL or empty), or SL_ENOMEM, in which case some paths may be resolved and
 * others not (the config is still valid to free).
 */
int sl_node_config_resolve(sl_node_config *cfg, const char *dir)
    __attribute__((warn_unused_result));

/** The user or oracle called name of organization org, or NULL (also for NULL arguments). */
const sl_node_member *sl_node_config_member(const sl_node_config *cfg, const char *name,
                                            const char *org);

/** Frees a config and everything it owns. Accepts NULL. */
void sl_node_config_free(sl_node_config *cfg);

/* ---- secrets (kind: Secrets): the node's cloud credentials, never on the ledger ---- */

#define SL_SECRETS_MAX_CREDENTIALS 256
#define SL_SECRET_MAX              4096 /* bytes of one credential string */

typedef enum sl_credential_kind {
    SL_CREDENTIAL_AWS,   /* "aws": an IAM access key (SigV4) */
    SL_CREDENTIAL_AZURE, /* "azure": an Entra ID application's client secret (OAuth2) */
} sl_credential_kind;

/** One named credential. The fields of the other kind are NULL. */
typedef struct sl_credential {
    char *name; /* what agreements name in a service's source.credentials; unique per oracle */
    sl_credential_kind kind;
    char *access_key_id;     /* aws */
    char *secret_access_key; /* aws */
    char *session_token;     /* aws, optional (temporary credentials); NULL if none */
    char *region;            /* aws */
    char *tenant_id;         /* azure */
    char *client_id;         /* azure */
    char *client_secret;     /* azure */
    char *endpoint;          /* optional: the monitoring API's base URL (CloudWatch, Azure
                                Resource Manager), e.g. a private endpoint or a stand-in;
                                overrides the agreement's source.endpoint */
    char *login_endpoint;    /* azure, optional: the token service's base URL */
    char *oracle;            /* optional: only this oracle member uses the credential (each
                                oracle of a node may have its own); NULL for every oracle */
} sl_credential;

typedef struct sl_secrets {
    char *name;                 /* metadata.name */
    char *description;          /* NULL if none */
    sl_credential *credentials; /* names unique */
    size_t n_credentials;
} sl_secrets;

/**
 * Parses a secrets document (kind: Secrets) with the conventions of sl_node_config_parse.
 * Diagnostics never quote a credential's value. *out is freed with sl_secrets_free.
 */
int sl_secrets_parse(const char *text, size_t len, const char *filename, sl_secrets **out,
                     sl_diags *diags) __attribute__((warn_unused_result));

/**
 * Reads path and calls sl_secrets_parse; the file's bytes are wiped from memory afterwards.
 * Refuses, with one SL_EPERM diagnostic, a file that group or others have any permission on
 * (as sl_key_load does), and with SL_EIO one that is not a regular file or cannot be read.
 */
int sl_secrets_parse_file(const char *path, sl_secrets **out, sl_diags *diags)
    __attribute__((warn_unused_result));

/** The credential called name that is for every oracle, or NULL (also for NULL arguments). */
const sl_credential *sl_secrets_find(const sl_secrets *s, const char *name);

/** The credential called name for oracle: the one scoped to that oracle, else the one for
 * every oracle, else NULL. oracle may be NULL (then as sl_secrets_find). */
const sl_credential *sl_secrets_find_for(const sl_secrets *s, const char *name, const char *oracle);

/** Wipes every string (sodium_memzero) and frees. Accepts NULL. */
void sl_secrets_free(sl_secrets *s);

/** "aws", "azure"; "unknown" otherwise. */
const char *sl_credential_kind_name(sl_credential_kind k);

/* ---- API tokens (kind: Tokens): bearer tokens, stored as SHA-256 hashes only ---- */

#define SL_TOKENS_MAX      10000
#define SL_TOKEN_PREFIX    "slt_"
#define SL_TOKEN_BYTES     32   /* random bytes of a token */
#define SL_TOKEN_LEN       47   /* "slt_" and 43 characters of unpadded base64url */
#define SL_TOKEN_CHECK_MAX 1024 /* longer presented tokens are refused unhashed */

/** Who a token speaks for. */
typedef struct sl_token {
    char user[SL_NAME_MAX + 1];
    char org[SL_NAME_MAX + 1];
    sl_role role;       /* exactly one role; one per (user, org) in the file */
    uint8_t sha256[32]; /* SHA-256 of the token's text ("slt_..."), unique in the file */
    int line, column;   /* where the entry starts in its file (1-based) */
} sl_token;

typedef struct sl_tokens {
    char *name;        /* metadata.name */
    char *description; /* NULL if none */
    sl_token *tokens;
    size_t n_tokens;
} sl_tokens;

/**
 * Parses a tokens document (kind: Tokens) with the conventions of sl_node_config_parse.
 * *out is freed with sl_tokens_free.
 */
int sl_tokens_parse(const char *text, size_t len, const char *filename, sl_tokens **out,
                    sl_diags *diags) __attribute__((warn_unused_result));

/**
 * Reads path and calls sl_tokens_parse. Refuses, with one SL_EPERM diagnostic, a file that
 * group or others may write (whoever can write it can grant themselves access), and with
 * SL_EIO one that is not a regular file or cannot be read.
 */
int sl_tokens_parse_file(const char *path, sl_tokens **out, sl_diags *diags)
    __attribute__((warn_unused_result));

/**
 * Authenticates a bearer token (NUL-terminated, as presented): hashes it and compares the
 * hash with every entry in constant time (sodium_memcmp; all entries are compared, whatever
 * matches). 0 with *out (may be NULL) pointing at the entry, borrowed from t; SL_EAUTH with
 * *out NULL when no entry matches or token is NULL or longer than SL_TOKEN_CHECK_MAX.
 */
int sl_tokens_check(const sl_tokens *t, const char *token, const sl_token **out)
    __attribute__((warn_unused_result));

/**
 * Makes a new token: SL_TOKEN_BYTES random bytes written as SL_TOKEN_PREFIX and unpadded
 * base64url into token (NUL-terminated, SL_TOKEN_LEN characters), and its SHA-256 into sha256
 * (what a tokens file stores). The only function of this module that is not deterministic.
 * 0, or SL_ENOMEM when libsodium cannot be initialised.
 */
int sl_token_generate(char token[SL_TOKEN_LEN + 1], uint8_t sha256[32])
    __attribute__((warn_unused_result));

/** Frees a tokens document. Accepts NULL. */
void sl_tokens_free(sl_tokens *t);

/**
 * Checks a node's tokens against its members (users and oracles are organization and name):
 * a token naming a member the node holds no key of, while it holds the key of a member of that
 * name of another organization, is refused (a mistyped organization would otherwise make a
 * token that signs for nobody, or was meant for the other member). Each problem goes to diags
 * with the token's line, column and field. 0, or SL_EINVAL. Either argument may be NULL (0).
 * The roles are the node's to check against the certificates.
 */
int sl_node_config_check_tokens(const sl_node_config *cfg, const sl_tokens *tokens, sl_diags *diags)
    __attribute__((warn_unused_result));

#endif
