/**
 * Script lines that give the commands after them a password in `variable`
 * without it touching a command line: it is read from the channel's stdin
 * (so it is in no argv that `ps` shows) and exported to the environment,
 * which only the same user and root can read. Without a password the
 * variable is unset and libpq falls back to ~/.pgpass or other methods.
 */
export function passwordFromStdin(variable: string, hasPassword: boolean): string[] {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) throw new TypeError(`not an environment variable name: ${variable}`);
  return hasPassword ? [`${variable}=$(cat) || exit 1`, `export ${variable}`] : [`unset ${variable}`];
}
