# The library never prints and never exits: no object of libckpt.a refers to
# the process's streams or to the printing and exiting functions.  Reports
# the library renders as text (ckpt-inspect's, the comparison's, --show's)
# are written into memory (open_memstream) and handed back to the tools,
# which print them through cli/.
set -u
lib=$BIN/../libckpt.a
[ -f "$lib" ] || { echo "no $lib" >&2; exit 1; }
command -v nm >/dev/null || { echo "nm not found: skipped" >&2; exit 0; }
bad=$(nm -A "$lib" 2>/dev/null | grep -E ' U (stdout|stderr|printf|vprintf|puts|putchar|perror|exit|_exit|abort)$')
[ -z "$bad" ] || { echo "library objects that print or exit:" >&2; echo "$bad" >&2; exit 1; }
exit 0
