// Plugins run on Node.js and some of these types are Node's: the declarations pull in @types/node (a dependency), so a project that uses them needs no types of its own.
/// <reference types="node" preserve="true" />
export { PLUGIN_API_VERSION } from './api-version.js';
export { definePlugin, isPluginDeclaration, PLUGIN_BRAND } from './define-plugin.js';
export type { PluginDeclaration, PluginSpec } from './define-plugin.js';
export {
  BadArgumentError,
  ConfigError,
  errorMessage,
  ErrorCodes,
  HandyRepError,
  hasErrorCode,
  PluginLoadError,
  TimeoutError,
  UnknownServerError,
} from './errors.js';
export type { ConfigProblem, ErrorCode } from './errors.js';
export type { JsonSchema, JsonValue, ObjectSchema } from './json-schema.js';
export { fail, failed, success, succeeded } from './return-dictionary.js';
export type { ResultCode, ReturnDictionary } from './return-dictionary.js';
export type { CoreServerKeys, KnownRole, ServerDefinition } from './server-definition.js';
export { formatLsn, parseLsn } from './lsn.js';
export { shellJoin, shellQuote } from './shell-quote.js';
export { CLUSTER_STATUSES, SERVER_STATUSES } from './status.js';
export type { ClusterStatusName, ServerStatusName, StatusFields } from './status.js';

export type { Clock } from './capabilities/clock.js';
export type { LogFields, Logger } from './capabilities/logger.js';
export type { PluginContext } from './capabilities/plugin-context.js';
export type { ClusterKind, PerServerKind, PluginDirectory } from './capabilities/plugin-directory.js';
export type { CommandOptions, CommandResult, RemoteShell } from './capabilities/remote-shell.js';
export type { Secrets } from './capabilities/secrets.js';
export type { ServerView } from './capabilities/server-view.js';
export type { SettingsView } from './capabilities/settings-view.js';
export type { HeldSessionOptions, HeldSqlSession, SqlClient, SqlRow, SqlSession, SqlTarget } from './capabilities/sql.js';

export type { Alert, AlertPlugin, AlertSeverity, AlertType } from './kinds/alert.js';
export type { ArchiveCleanupPlugin, ArchivePlugin } from './kinds/archive.js';
export type { AccessLevel, AuthDecision, AuthenticationPlugin, Credentials } from './kinds/authentication.js';
export type { PluginInstanceBase } from './kinds/base.js';
export type { ClonePlugin, CloneRequest, CloneResult, RewindRequest } from './kinds/clone.js';
export type { ConnectionFailoverPlugin } from './kinds/connection-failover.js';
export type { ControlPlugin, ControlResult } from './kinds/control.js';
export type { FenceResult, FencingPlugin } from './kinds/fencing.js';
export type { HrMasterDecision, HrMasterPlugin, SharedStateRecord, SharedStateStore } from './kinds/hr-master.js';
export { KIND_METHODS, missingKindMethods } from './kinds/kind-methods.js';
export { PLUGIN_KINDS } from './kinds/plugin-kind.js';
export type { PluginKind, PluginKindMap } from './kinds/plugin-kind.js';
export type { PollPlugin, PollResult, PollState } from './kinds/poll.js';
export type { PromotionPlugin } from './kinds/promotion.js';
export type { ReplicaCandidate, ReplicaSelection, ReplicaSelectionPlugin, SelectionOptions } from './kinds/replica-selection.js';
export type { ReplicaLag, ReplicaPosition, ReplicationStatusPlugin } from './kinds/replication-status.js';
export { compareServerNames, partitionCandidates, rankCandidates, replicaExclusionReasons } from './replica-eligibility.js';
export type { ExclusionReasons } from './replica-eligibility.js';
export { confirmLeftRecovery, queryInRecovery, sessionInRecovery } from './postgres-checks.js';
export type { RecoveryConfirmation, RecoveryConfirmationOptions } from './postgres-checks.js';
export { errnoCodesOf, networkFailureOf } from './network-failure.js';
export type { NetworkFailure } from './network-failure.js';
export { pollFailureOf, pollResult } from './poll-result.js';
export type { PollFailure, PollObservation } from './poll-result.js';
export { withTimeout } from './with-timeout.js';
export { errorCodeOf } from './error-code-of.js';
export { cleanOutput, commandFields, commandReason, failFromError, lastLines, maskPasswords, MAX_OUTPUT_CHARS, PASSWORD_KEYS, timedServerAction, trimOutput } from './helpers/command-output.js';
export { absolutePath } from './helpers/absolute-path.js';
export { inDataDirectory, pgServer } from './helpers/pg-server.js';
export type { PgServer } from './helpers/pg-server.js';
export { configString, withPrimaryConninfo } from './helpers/auto-conf.js';
export { conninfoValue, passfileLine, primaryConninfo, replicationTlsPairs } from './helpers/conninfo.js';
export type { PrimaryConninfoParts } from './helpers/conninfo.js';
export {
  dataDirectoryProbeScript,
  EMPTY_REFUSED_RUNNING,
  emptyDataDirectory,
  emptyDataDirectoryScript,
  parseDataDirectoryProbe,
  POSTMASTER_PID_SHELL_FUNCTION,
  probeDataDirectory,
} from './helpers/data-directory.js';
export type { DataDirectoryProbe, DataDirectoryState, EmptyDataDirectoryOutcome } from './helpers/data-directory.js';
export { replicationUser, writeStandbySettings } from './helpers/standby-settings.js';
export type { StandbySettings } from './helpers/standby-settings.js';
export { cloneFailure } from './clone/clone-outcome.js';
export type { CloneOutcome } from './clone/clone-outcome.js';
export { cloneRefusal, isRegistryMaster, prepareCloneTarget, removeFailedCopy, resolveCloneServers } from './clone/clone-target.js';
export type { CloneServers, CloneTargetPreparation } from './clone/clone-target.js';
export { archiveCommandFor, archivePaths, DEFAULT_ARCHIVE_SCRIPT_NAME, DEFAULT_ARCHIVE_TOUCH_FILE_NAME } from './archive/archive-paths.js';
export type { ArchivePaths } from './archive/archive-paths.js';
export { ARCHIVE_CHECK_SCRIPT, ARCHIVE_STORE_SCRIPT } from './archive/store-script.js';
export { ARCHIVER_QUERY, judgeArchiving } from './archive/archiver-health.js';
export type { ArchiveHealth, ArchiveHealthInput, ArchiverRow, ArchivingState } from './archive/archiver-health.js';
export { ArchiverMonitor, createTouchFileScript, removeTouchFileScript, startArchiving, stopArchiving } from './archive/touch-file.js';
export type { ArchiverPoll, ArchiverPollRequest, TouchFileRequest } from './archive/touch-file.js';
export { ARCHIVE_SCRIPT_PATH_SCHEMA, ARCHIVE_SCRIPT_USAGE_CHECK, ARCHIVER_QUERY_TIMEOUT_SCHEMA } from './archive/archive-settings.js';
export { trustedCas } from './trusted-cas.js';
export { describeTlsFailure, PG_SSL_MODES, pgTls, pgTlsFromSettings, sslRequestMessage } from './helpers/pg-tls.js';
export type { PgSslMode, PgTls } from './helpers/pg-tls.js';
export { recoveryConfirmSchemas } from './recovery-confirm-schema.js';
export type { RecoveryConfirmSchemas } from './recovery-confirm-schema.js';
