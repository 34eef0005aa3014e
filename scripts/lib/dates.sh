# scripts/lib/dates.sh: agreement periods for tests that must hold on any day. Sourced by
# scripts/lib/node.sh and by tests that write or copy agreement documents.
#
#   with_next_month SRC OUT   copies SRC to OUT with its one-line `  period: {start: ..., end:
#                             ...}` set to the next calendar month (UTC) of today, so a node
#                             has no past intervals to catch up and nothing has ended; sets
#                             `period_start` and `period_end` as written. Returns 1 when SRC
#                             has no such line.
# SRC may hold any placeholder there (test data keeps no calendar date: `{start: START, end:
# END}`); only the line's shape matters.

with_next_month() {
    period_start=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%Y-%m-01T00:00:00Z)
    period_end=$(date -u -d "${period_start%T*} +1 month" +%Y-%m-01T00:00:00Z)
    grep -q '^  period: {start: .*, end: .*}$' "$1" || return 1
    sed "s/^  period: {start: .*, end: .*}$/  period: {start: $period_start, end: $period_end}/" \
        "$1" >"$2"
}
