/**
 * Escapes a value for use inside one RDN of a DN (RFC 4514 section 2.4), so
 * a user name such as `alice,ou=admins` stays one attribute value and cannot
 * point the bind at another entry.
 */
export function escapeDnValue(value: string): string {
  const chars = [...value];
  return chars
    .map((char, index) => {
      if ('"+,;<>\\='.includes(char)) return `\\${char}`;
      if (char.charCodeAt(0) < 0x20 || char === '\u007f') return hexEscape(char);
      if (index === 0 && (char === ' ' || char === '#')) return `\\${char}`;
      if (index === chars.length - 1 && char === ' ') return '\\ ';
      return char;
    })
    .join('');
}

/**
 * Escapes a value for use inside a search filter (RFC 4515 section 3), so
 * `*`, parentheses and backslashes match literally and cannot widen or
 * restructure the filter.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const char of value) {
    out += '*()\\\u0000'.includes(char) ? hexEscape(char) : char;
  }
  return out;
}

function hexEscape(char: string): string {
  return `\\${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}
