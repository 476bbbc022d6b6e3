import type { Records } from './records';
import type { StoreConfig } from './types';

/** What an MTurk operation works with: the records, the configuration, and this request. */
export interface Call {
  records: Records;
  config: StoreConfig;
  requestId: string;
  /** The emulator's clock when the request is executed (epoch ms). */
  now: number;
}
