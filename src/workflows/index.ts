// Entry point for `workflowsPath` / `bundleWorkflowCode`: every workflow temporal-mturk ships.
export {
  approveAndBonus,
  statusQuery,
  fundsAddedSignal,
  payUnderNewTokenSignal,
} from './approve-and-bonus';
// The input types live in ../common (pure, shared with clients); re-exported for convenience.
export type { ApproveAndBonusOptions, AssignmentActionOptions } from '../common/workflow-options';
export type { ApproveAndBonusWorkflowInput, PayUnderNewTokenRequest } from '../common/types';
export type { PayBatchInput } from '../common/batch';
export type { ReviewHitInput } from '../common/review-types';
export { payBatch, progressQuery } from './batch';
export { reviewHit, reviewProgressQuery } from './review-hit';
export { approveAssignment, rejectAssignment } from './assignment-actions';
