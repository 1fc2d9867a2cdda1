/** One hex digit as PostgreSQL writes WAL file names (upper case only). */
const HEX = '[0-9A-F]';

/** A 24-hex-digit WAL segment name as a find -name pattern. */
const SEGMENT = HEX.repeat(24);

/**
 * The file names cleanup may delete, as find -name patterns (read with
 * LC_ALL=C so ranges are byte ranges): a segment, a segment left `.partial`
 * at a timeline switch, and a backup history file `<segment>.<offset>.backup`.
 * Timeline `.history` files are never matched: they are tiny, and a restore
 * to a later timeline needs every one of them.
 */
export const DELETABLE_NAME_PATTERNS: readonly string[] = [SEGMENT, `${SEGMENT}.partial`, `${SEGMENT}.${HEX.repeat(8)}.backup`];

/** The same names as one regular expression, for checking what find reported. */
export const DELETABLE_NAME = /^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$/;
