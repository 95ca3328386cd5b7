# Sourced by tests/scripts/interop.sh, consumers.sh, transactions.sh and faults.sh: a scratch directory removed
# at exit, a time budget for the whole script, and a bin/mockbroker per check that stops when its
# stdin closes, and check, which runs one check and prints its line. The sourcing script sets me
# (its name), mb (the broker binary), budget (seconds) and keep (1 keeps the scratch directory), and
# may set verbose and only (see check).

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-${me%.sh}.XXXXXX")
broker_pid=""
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    if [ "$keep" = 1 ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
# bounded SECONDS CMD...: CMD under timeout, never past the script's budget.
bounded() {
    local t=$1 left=$((budget - (SECONDS - started)))
    shift
    ((left < t)) && t=$left
    ((t >= 1)) || { echo "$me: out of time (budget ${budget}s)" >&2; return 124; }
    timeout -k 3 "$t" "$@"
}

# start_broker ARGS...: starts bin/mockbroker with ARGS, sets BS to its bootstrap list (and ADMIN
# to the control API's URL when ARGS ask for --admin-port). The seed is 42 unless a --scenario
# brings its own. Its stdin and stdout are fifos: we hold stdin's only writer, so closing it stops
# the broker, and the broker (with its timeout wrapper) is stdout's only writer, so EOF there
# means it is gone.
n_brokers=0
start_broker() {
    if ((budget - (SECONDS - started) < 5)); then
        echo "$me: out of time (budget ${budget}s)"
        return 1
    fi
    n_brokers=$((n_brokers + 1))
    local in="$tmp/broker$n_brokers.in" out="$tmp/broker$n_brokers.out" line="" admin="" ro
    local -a seed=(--seed 42)
    [[ " $* " == *" --scenario "* ]] && seed=()
    broker_log="$tmp/broker$n_brokers.log"
    mkfifo "$in" "$out" || return 1
    # Read-write opens of a fifo never block, so a broker that fails to start cannot hang us.
    exec {broker_in}<>"$in" {broker_out}<>"$out"
    timeout -k 5 "$((budget + 30))" "$mb" --port 0 "${seed[@]}" --exit-on-stdin-close \
        --log-level debug "$@" <"$in" >"$out" 2>"$broker_log" {broker_in}>&- {broker_out}>&- &
    broker_pid=$!
    read -r -t 10 -u "$broker_out" line
    [[ " $* " == *" --admin-port "* ]] && read -r -t 5 -u "$broker_out" admin
    exec {ro}<"$out"
    exec {broker_out}>&-
    broker_out=$ro
    BS=${line#bootstrap=}
    ADMIN=${admin#admin=}
    case $line in
    bootstrap=127.0.0.1:*)
        [[ " $* " != *" --admin-port "* || $admin == admin=http://127.0.0.1:* ]] && return 0
        echo "mockbroker $*: no admin line on stdout (got '$admin')"
        return 1
        ;;
    esac
    echo "mockbroker $*: no bootstrap line on stdout (got '$line')"
    return 1
}

# stop_broker: closes the broker's stdin; it must then exit 0 on its own within 10 s.
stop_broker() {
    [ -n "$broker_pid" ] || return 0
    local st
    exec {broker_in}>&-
    while :; do             # to EOF (exited) or 10 s of silence (still running)
        read -r -t 10 -u "$broker_out" _
        st=$?
        ((st == 0)) || break
    done
    exec {broker_out}<&-
    if ((st > 128)); then
        echo "mockbroker still running 10 s after its stdin closed: killed"
        kill "$broker_pid"
        wait "$broker_pid"
        broker_pid=""
        return 1
    fi
    wait "$broker_pid"
    st=$?
    broker_pid=""
    [ "$st" = 0 ] || { echo "mockbroker exit status $st (0 expected once stdin closes)"; return 1; }
}

# What the broker received: "ApiVersions v3, Metadata v4, ..." (first-seen order).
requests_seen() {
    sed -n 's/.*conn [0-9]*: \(.*\) v\([0-9]*\) correlation id.*/\1 v\2/p' "$1" |
        awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g'
}

# check NAME FUNCTION ARGS...: runs one check (which starts its own broker), prints one line,
# "ok - NAME" or "not ok - NAME" with the details and the broker's log after it, indented with
# '#'. The sourcing script may set verbose=1 (details of passing checks too, and the requests
# the broker received), only=REGEX (run only the checks whose names match) and pass_show=REGEX
# (the lines of a passing check's details to show anyway).
passed=0
failed=0
check() {
    local name=$1 ok=1
    shift
    [[ $name =~ ${only:-.} ]] || return 0
    broker_log=""
    "$@" >"$tmp/detail" 2>&1 || ok=0
    stop_broker >>"$tmp/detail" 2>&1 || ok=0
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
        echo "ok - $name"
        [ -n "${pass_show:-}" ] && grep -E "$pass_show" "$tmp/detail" | sed 's/^/#   /'
    else
        failed=$((failed + 1))
        echo "not ok - $name"
        sed 's/^/#   /' "$tmp/detail" | tail -40
        if [ -n "$broker_log" ] && [ -s "$broker_log" ]; then
            echo "#   mockbroker log (last 20 lines):"
            grep -v -e ' correlation id ' -e ': accepted ' -e ': closed by peer' "$broker_log" |
                tail -20 | sed 's/^/#     /'
        fi
    fi
    if [ "${verbose:-0}" = 1 ]; then
        [ $ok = 1 ] && sed 's/^/#   /' "$tmp/detail"
        [ -n "$broker_log" ] && echo "#   requests: $(requests_seen "$broker_log")"
    fi
    return 0
}
