export {
  createMTurkActivities,
  type AccountBalance,
  type MTurkActivities,
  type MTurkActivityDeps,
} from './mturk-activities';
