#!/usr/bin/env bash
# The deterministic layers (contract, and the util and sla code it builds on) must not read a
# clock, draw random numbers, do I/O or touch floating point. This inspects the built static
# libraries: no undefined reference to such a function, and no SSE/x87 register in the code
# (on x86-64 they are compiled with -mgeneral-regs-only, so this also proves the flag held).
set -euo pipefail
build=${SL_BUILD_DIR:?}

forbidden='^(time|clock|clock_gettime|gettimeofday|timespec_get|rand|random|srand|srandom|rand_r|drand48|getrandom|arc4random|randombytes_.*|fopen|fdopen|freopen|open|openat|read|write|pread|pwrite|fread|fwrite|fgets|fputs|puts|printf|fprintf|vprintf|vfprintf|perror|socket|connect|send|recv|getenv|system|popen|exit|abort|sqrt|floor|ceil|pow|exp|log|fabs|round|fmod|strtod|strtof|atof)$'

fail=0
for lib in contract util; do
    a="$build/libsl_$lib.a"
    [ -f "$a" ] || { echo "missing $a"; exit 1; }
    bad=$(nm -u "$a" | awk '{print $2}' | sort -u | grep -E "$forbidden" || true)
    if [ -n "$bad" ]; then
        echo "libsl_$lib.a references forbidden functions:"; echo "$bad" | sed 's/^/  /'
        fail=1
    fi
done

if [ "$(uname -m)" = x86_64 ]; then
    for lib in contract util sla; do
        n=$(objdump -d --no-show-raw-insn "$build/libsl_$lib.a" | grep -cE '%xmm|%ymm|%zmm|%st\(' || true)
        if [ "$n" -ne 0 ]; then
            echo "libsl_$lib.a uses floating-point/vector registers ($n instructions)"
            fail=1
        fi
    done
fi

[ $fail -eq 0 ] && echo "contract purity: ok (no clock, randomness, I/O or floating point)"
exit $fail
