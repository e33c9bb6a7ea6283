# ckpt, the front: `ckpt CMD ARGS` is `ckpt-CMD ARGS` (same output, same exit
# status), `ckpt help` lists the commands, `ckpt help CMD` shows CMD's help,
# `ckpt --version`; an unknown or missing command lists them on stderr and
# exits 2.  `make install` puts ckpt and ckpt.1 in place; `make uninstall`
# takes everything away again, the folders it made included.
set -u
G=tests/data/golden/tiny-mistral/convert-f16.gguf
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN/ckpt" inspect -s "$G" >"$TMP/a" || fail "ckpt inspect"
"$BIN/ckpt-inspect" -s "$G" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b" || fail "same output"
"$BIN/ckpt" quant 2>"$TMP/e"; [ $? -eq 2 ] || fail "exit status passed on"
grep -q "^ckpt-quant: no input given" "$TMP/e" || fail "the tool's own message: $(cat "$TMP/e")"
"$BIN/ckpt" help >"$TMP/h" || fail "help"
for c in convert quant sign verify run inspect; do
    grep -q "^  $c " "$TMP/h" || fail "help lists $c"
done
"$BIN/ckpt" help quant | grep -q '^Usage: ckpt-quant' || fail "help quant"
[ "$("$BIN/ckpt" --version)" = "ckpt $("$BIN/ckpt-quant" --version | cut -d' ' -f2)" ] ||
    fail "--version"
"$BIN/ckpt" frobnicate 2>"$TMP/e" >"$TMP/o"; [ $? -eq 2 ] || fail "unknown command"
grep -q "'frobnicate' is not a ckpt command" "$TMP/e" && grep -q '^  verify ' "$TMP/e" &&
    [ ! -s "$TMP/o" ] || fail "unknown command: $(cat "$TMP/e")"
"$BIN/ckpt" 2>"$TMP/e"; [ $? -eq 2 ] && grep -q 'no command given' "$TMP/e" || fail "no command"
# install and uninstall into a staging tree, of the tools as built (-o all: never rebuilt here)
make -s -o all install uninstall >/dev/null 2>&1 DESTDIR="$TMP/root" PREFIX=/opt/ck BUILD="${BIN%/bin}" ||
    fail "make install uninstall"
[ -z "$(ls -A "$TMP/root")" ] || fail "uninstall left: $(cd "$TMP/root" && find .)"
make -s -o all install >/dev/null 2>&1 DESTDIR="$TMP/root" PREFIX=/opt/ck BUILD="${BIN%/bin}" ||
    fail "make install"
[ -x "$TMP/root/opt/ck/bin/ckpt" ] && [ -f "$TMP/root/opt/ck/share/man/man1/ckpt.1" ] ||
    fail "ckpt and ckpt.1 installed"
! grep -q '@VERSION@' "$TMP/root/opt/ck/share/man/man1/ckpt.1" || fail "version substituted"
"$TMP/root/opt/ck/bin/ckpt" inspect -s "$G" >"$TMP/c" && cmp -s "$TMP/a" "$TMP/c" ||
    fail "installed ckpt runs its sibling"
exit 0
