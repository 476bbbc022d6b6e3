// Entry point for `workflowsPath` / `bundleWorkflowCode`: every workflow temporal-mturk ships.
export {
  approveAndBonus,
  statusQuery,
  fundsAddedSignal,
  payUnderNewTokenSignal,
} from './approve-and-bonus';
export type {
  ApproveAndBonusOptions,
  ApproveAndBonusWorkflowInput,
  PayUnderNewTokenRequest,
} from './approve-and-bonus';
export { payBatch, progressQuery } from './batch';
export { reviewHit, reviewProgressQuery } from './review-hit';
export type { ReviewHitInput } from './review-hit';
export { approveAssignment, rejectAssignment } from './assignment-actions';
export type { AssignmentActionOptions } from './assignment-actions';
