/** How systemctl commands are built for one server. */
export interface SystemctlOptions {
  /** The systemctl executable. */
  systemctl: string;
  /** Prefix state-changing commands with `sudo -n --`. */
  useSudo: boolean;
}

/** State-changing systemctl verbs this plugin uses. */
export type SystemctlAction = 'start' | 'stop' | 'restart' | 'reload';

/** `systemctl is-active -- <unit>`: prints the unit's ActiveState; read-only, never through sudo. */
export function isActiveArgv(options: SystemctlOptions, unit: string): string[] {
  return [options.systemctl, 'is-active', '--', unit];
}

/** `systemctl show --property=LoadState --value -- <unit>`: `loaded`, `not-found`, `masked`... */
export function loadStateArgv(options: SystemctlOptions, unit: string): string[] {
  return [options.systemctl, 'show', '--property=LoadState', '--value', '--', unit];
}

function privileged(options: SystemctlOptions, argv: string[]): string[] {
  // -n: fail at once instead of waiting for a password nobody will type.
  return options.useSudo ? ['sudo', '-n', '--', ...argv] : argv;
}

/** `[sudo -n --] systemctl --no-ask-password <action> -- <unit>`; systemctl waits for the job to finish. */
export function actionArgv(options: SystemctlOptions, action: SystemctlAction, unit: string): string[] {
  return privileged(options, [options.systemctl, '--no-ask-password', action, '--', unit]);
}

/**
 * `[sudo -n --] systemctl --no-ask-password kill --kill-who=main --signal=SIGQUIT -- <unit>`:
 * SIGQUIT to the postmaster alone is PostgreSQL's immediate shutdown; the
 * postmaster itself ends its children. (`--kill-who` is understood by old
 * and new systemd; 252 added `--kill-whom` as its new name.)
 */
export function immediateStopArgv(options: SystemctlOptions, unit: string): string[] {
  return privileged(options, [options.systemctl, '--no-ask-password', 'kill', '--kill-who=main', '--signal=SIGQUIT', '--', unit]);
}
