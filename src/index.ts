/**
 * temporal-mturk: approve Amazon Mechanical Turk assignments and pay bonuses exactly once, as
 * Temporal workflows.
 *
 * Entry points:
 * - `temporal-mturk` (this module): client helpers, the JSON contract's types, validation,
 *   money, failure types, configuration, the worker factory and payload encryption.
 * - `temporal-mturk/common`: the pure, workflow-safe part of the above (IDs, types,
 *   validation, money, failure types), for your own workflow code.
 * - `temporal-mturk/activities`: createMTurkActivities, createReviewActivities, to register
 *   on your own worker.
 * - `temporal-mturk/workflows`: the workflow functions, for `workflowsPath` or `executeChild`.
 * - `temporal-mturk/emulator`: a local MTurk emulator for your own tests.
 *
 * Nothing here is loaded by workflow code: import workflows from `temporal-mturk/workflows`.
 */

// Pure, workflow-safe helpers (also `temporal-mturk/common`): workflow IDs, the workflows'
// JSON contracts (approveAndBonus, reviewHit, payBatch), validation, money, failure types.
export * from './common';

// Client helpers.
export {
  payBonus,
  payBonusAndWait,
  searchAttributesRegistered,
  type PayBonusOptions,
} from './client';
export { startReviewHit, type StartReviewOptions } from './review-client';

// MTurk error classification, for activities of your own.
export {
  classifyMTurkError,
  isDuplicateTokenError,
  redactSecrets,
  type MTurkErrorClassification,
  type MTurkErrorContext,
  type MTurkFailureDetails,
} from './mturk/errors';

// Configuration and the worker.
export {
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_EMULATOR_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MTURK_REGION,
  MTURK_TARGETS,
  PRODUCTION_ENDPOINT,
  SANDBOX_ENDPOINT,
  createMTurkClient,
  describeTarget,
  isMTurkTarget,
  localMTurkConfig,
  mturkConfigFromEnv,
  resolveMTurkEndpoint,
  type MTurkConfig,
  type MTurkTarget,
  type ResolveEndpointOptions,
} from './mturk/client';
export { DEFAULT_TASK_QUEUE, temporalTargetFromEnv, type TemporalTarget } from './temporal-config';
export { createMTurkWorker, type MTurkWorkerOptions } from './worker';
export { installRuntimeFromEnv, parseMetricsAddress, runtimeOptionsFromEnv } from './observability';

// Payload encryption.
export {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  codecFromEnv,
  codecKeyFromBase64,
  dataConverterFromEnv,
  deriveKeyId,
  type AesGcmCodecOptions,
  type CodecKey,
  type DataConverterFromEnvOptions,
} from './codec';
