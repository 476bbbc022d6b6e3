export {
  createMTurkActivities,
  type AccountBalance,
  type MTurkActivities,
  type MTurkActivityDeps,
} from './mturk-activities';
export {
  createBatchActivities,
  type BatchActivities,
  type BatchActivityDeps,
  type PaymentOutcome,
  type PaymentOutcomeInput,
  type PaymentStatesInput,
} from './batch-activities';
export {
  createReviewActivities,
  type ReviewActivities,
  type ReviewActivityDeps,
  type WorkflowOutcome,
  type WorkflowOutcomeInput,
} from './review-activities';
export {
  checkNotifyWorkersInput,
  createNotifyActivities,
  type NotifyActivities,
  type NotifyActivityDeps,
  type NotifyWorkerFailure,
  type NotifyWorkersInput,
  type NotifyWorkersResult,
} from './notify-activities';
