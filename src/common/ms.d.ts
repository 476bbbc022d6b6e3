// `ms` ships its types for `import` only (dist/index.d.ts beside index.mjs); this package compiles
// to CommonJS, which resolves to index.cjs. The one call we make, typed as @temporalio/common types
// it (ms's own StringValue is the same template type).
declare module 'ms' {
  import type { StringValue } from '@temporalio/common';
  /** Milliseconds of a duration string; NaN when it is not one. Throws on a non-string. */
  export default function ms(value: StringValue): number;
}
