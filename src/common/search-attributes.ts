import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes that make payments findable in the Temporal UI and with `temporal workflow list`.
 * They must be registered on the namespace (the dev server harness does it; on Temporal Cloud use
 * `temporal operator search-attribute create`). Workflows only upsert them when registered.
 */
export const MTurkAssignmentId = defineSearchAttributeKey('MTurkAssignmentId', 'KEYWORD');
export const MTurkWorkerId = defineSearchAttributeKey('MTurkWorkerId', 'KEYWORD');
export const MTurkBonusState = defineSearchAttributeKey('MTurkBonusState', 'KEYWORD');

export const ALL_SEARCH_ATTRIBUTES = [MTurkAssignmentId, MTurkWorkerId, MTurkBonusState];
