# "-" reads a single-file input from standard input wherever that makes
# sense: ckpt-run and ckpt-verify --against take a GGUF on a pipe and give
# what they give for the file; ckpt-sign and the signature check refuse it
# (exit 2) saying that the signature goes next to a named file.
set -u
M=tests/data/models/tiny-mistral
G=tests/data/golden/tiny-mistral/convert-f16.gguf
fail() { echo "FAIL: $*" >&2; exit 1; }
ids="1 355 879 265 1090"
want=$("$BIN/ckpt-run" --ids -n 8 "$G" -p "$ids") || fail "run file"
got=$(cat "$G" | "$BIN/ckpt-run" --ids -n 8 - -p "$ids") || fail "run -"
[ "$got" = "$want" ] || fail "run -: $got, want $want"
want=$("$BIN/ckpt-run" -n 8 "$G" -p "The capital") || fail "run text file"
got=$(cat "$G" | "$BIN/ckpt-run" -n 8 - -p "The capital") || fail "run text -"
[ "$got" = "$want" ] || fail "run text -: $got, want $want"
cat "$G" | "$BIN/ckpt-verify" -n 4 --against "$M" - >"$TMP/v" || fail "verify --against -"
grep -q '^PASS$' "$TMP/v" || fail "verify --against -: $(cat "$TMP/v")"
"$BIN/ckpt-sign" -k key.pem - </dev/null 2>"$TMP/e"; [ $? -eq 2 ] || fail "sign -"
grep -q 'name a file' "$TMP/e" || fail "sign -: $(cat "$TMP/e")"
"$BIN/ckpt-verify" -p key.pub - </dev/null 2>"$TMP/e"; [ $? -eq 2 ] || fail "verify -"
grep -q 'name the file' "$TMP/e" || fail "verify -: $(cat "$TMP/e")"
: | "$BIN/ckpt-run" - -p hi 2>"$TMP/e"; [ $? -eq 2 ] || fail "run empty stdin"
grep -q 'standard input is not a GGUF file' "$TMP/e" || fail "run empty stdin: $(cat "$TMP/e")"
exit 0
