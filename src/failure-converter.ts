/**
 * Loaded by path (DataConverter.failureConverterPath), in workflow code too: failure messages
 * and stack traces move into an encoded payload, so the payload codec encrypts them as well.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
