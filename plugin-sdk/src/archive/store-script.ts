/**
 * Shell code that stores one WAL file, run as
 * `sh -c "$STORE" handyrep-archive <dir> <fsync 0|1> <file name> < <segment>` (the file name
 * last: the remote script appends it to a fixed command line).
 *
 * Why this shape: PostgreSQL may run archive_command again for a file it
 * already archived (a crash between copy and bookkeeping), so an identical
 * existing file is success; a different one must never be overwritten (two
 * clusters writing into one archive, a timeline mix-up), so that fails and
 * PostgreSQL keeps the segment. The copy goes to a hidden temp name and is
 * hard-linked into place: `ln` never replaces an existing name, so a reader
 * (restore_command) never sees a half-written segment and a racing writer
 * cannot be clobbered.
 */
export const ARCHIVE_STORE_SCRIPT = [
  'umask 077',
  'dir=$1 fsync=$2 f=$3',
  "case $f in ''|.*|*[!0-9A-Za-z._-]*) printf 'handyrep archive: refusing file name %s\\n' \"$f\" >&2; exit 2 ;; esac",
  'dest=$dir/$f',
  'if [ -e "$dest" ]; then',
  '  if cmp -s - "$dest"; then exit 0; fi',
  "  printf 'handyrep archive: %s already exists and differs (or cannot be read); not overwritten\\n' \"$dest\" >&2",
  '  exit 3',
  'fi',
  'tmp=$dir/.$f.handyrep-tmp.$$',
  'trap \'rm -f -- "$tmp"\' EXIT',
  "trap 'exit 1' HUP INT TERM",
  "if ! cat > \"$tmp\"; then printf 'handyrep archive: cannot write %s\\n' \"$tmp\" >&2; exit 4; fi",
  "if [ \"$fsync\" = 1 ] && ! sync -- \"$tmp\"; then printf 'handyrep archive: cannot fsync %s\\n' \"$tmp\" >&2; exit 4; fi",
  'if ! ln -- "$tmp" "$dest"; then',
  '  if cmp -s -- "$tmp" "$dest"; then exit 0; fi',
  "  printf 'handyrep archive: cannot link %s into place\\n' \"$dest\" >&2",
  '  exit 5',
  'fi',
  // A failed directory sync leaves the name possibly not durable: fail, so PostgreSQL retries and finds the identical file.
  "if [ \"$fsync\" = 1 ] && ! sync -- \"$dir\"; then printf 'handyrep archive: cannot fsync directory %s\\n' \"$dir\" >&2; exit 6; fi",
  'exit 0',
].join('\n');

/**
 * Shell code run as `sh -c "$CHECK" handyrep-check <dir>`: creates the
 * archive directory when missing (mode 0700) and checks that it is a writable
 * directory and that the tools ARCHIVE_STORE_SCRIPT uses are installed.
 */
export const ARCHIVE_CHECK_SCRIPT = [
  'umask 077',
  'dir=$1',
  "if ! mkdir -p -- \"$dir\" || [ ! -d \"$dir\" ] || [ ! -w \"$dir\" ] || [ ! -x \"$dir\" ]; then printf 'handyrep archive: %s is not a writable directory\\n' \"$dir\" >&2; exit 1; fi",
  "for tool in cat cmp ln sync; do command -v \"$tool\" >/dev/null 2>&1 || { printf 'handyrep archive: %s is not installed\\n' \"$tool\" >&2; exit 1; }; done",
  'exit 0',
].join('\n');
