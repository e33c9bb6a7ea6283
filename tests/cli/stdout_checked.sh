# Standard output is checked in every tool: a full device (/dev/full) or a
# reader that went away (a pipe closed before the write; SIGPIPE ignored by
# the caller or not) makes the tool say "write error: standard output" or
# name the pipe, and exit 2 -- never 0, never death by SIGPIPE (141) -- and
# leaves no temporary file behind.
set -u
TMP=$TMP/stdout_checked && mkdir -p "$TMP" || exit 1
M=tests/data/models/tiny-mistral
G=tests/data/golden/tiny-mistral/convert-f16.gguf
V=tests/data/vectors/model_signing
fail() { echo "FAIL: $*" >&2; exit 1; }
full() { # name, command...: exit 2 and the message with stdout on /dev/full
    name=$1; shift
    "$@" >/dev/full 2>"$TMP/e"; rc=$?
    [ $rc -eq 2 ] || fail "$name >/dev/full: exit $rc: $(cat "$TMP/e")"
    grep -q -e 'write error: standard output: No space left on device' \
        -e 'No space left on device' "$TMP/e" || fail "$name >/dev/full: $(cat "$TMP/e")"
}
closed() { # name, command...: the reader is gone before the first write
    name=$1; shift
    { sleep 0.3; "$@" 2>"$TMP/e"; echo $? >"$TMP/rc"; } | true
    rc=$(cat "$TMP/rc")
    [ "$rc" -eq 2 ] || fail "$name | closed: exit $rc: $(cat "$TMP/e")"
    grep -q 'Broken pipe' "$TMP/e" || fail "$name | closed: $(cat "$TMP/e")"
}
both() { full "$@"; closed "$@"; (trap '' PIPE; closed "$@") || exit 1; }

both "inspect" "$BIN/ckpt-inspect" "$G"
both "inspect --json" "$BIN/ckpt-inspect" --json "$G"
both "run" "$BIN/ckpt-run" -n 4 "$G" -p hi
both "run --ids" "$BIN/ckpt-run" --ids -n 4 "$M" -p "1 355"
both "verify --against" "$BIN/ckpt-verify" -n 2 --against "$M" "$G"
both "verify --against --json" "$BIN/ckpt-verify" -n 2 --json --against "$M" "$G"
both "verify" "$BIN/ckpt-verify" -v -p "$V/signing-key-pub.pem" "$V/v1.1.0-elliptic-key"
both "verify --show" "$BIN/ckpt-verify" --show "$V/v1.1.0-elliptic-key/model.sig"
both "quant -o -" "$BIN/ckpt-quant" -q -t Q8_0 "$G" -o -
both "quant --json" "$BIN/ckpt-quant" -q -f -t Q8_0 --json "$G" -o "$TMP/q.gguf"
both "convert -o -" "$BIN/ckpt-convert" -q -o - "$M"
both "convert --json" "$BIN/ckpt-convert" -q -f --json -o "$TMP/c.gguf" "$M"
both "convert --dry-run" "$BIN/ckpt-convert" --dry-run "$M"
both "sign --help" "$BIN/ckpt-sign" --help
both "ckpt help" "$BIN/ckpt" help
# nothing left behind: only the outputs asked for
[ "$(ls -A "$TMP" | grep -v -e '^e$' -e '^rc$' -e '^q.gguf$' -e '^c.gguf$')" = "" ] ||
    fail "left behind: $(ls -A "$TMP")"
exit 0
