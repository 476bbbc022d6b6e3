/**
 * Re-renders the chart and table of a result file: `npx tsx bench/render.ts <result.json>`
 * writes `<result>.svg` beside it and prints the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderChart } from './chart';
import { resultSchema } from './schema';
import { formatTable } from './table';

const file = process.argv[2];
if (!file || !file.endsWith('.json')) {
  console.error('usage: npx tsx bench/render.ts <result.json>');
  process.exit(2);
}
const result = resultSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const svgPath = file.replace(/\.json$/, '.svg');
writeFileSync(svgPath, renderChart(result));
console.log(formatTable(result));
console.log(`chart: ${svgPath}`);
