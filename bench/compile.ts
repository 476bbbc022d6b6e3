/**
 * Transpiles src/ and the bench child to CommonJS in a temporary folder, so worker processes run
 * plain JavaScript, as `temporal-mturk worker` does from dist/: under tsx a process carries the
 * loader and its esbuild thread, about 55 MB of RSS that production does not have.
 * Transpile only (no type check): a second or two.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Writes `<outDir>/src/**.js` and `<outDir>/bench/{child,protocol}.js`; returns the child's path. */
export function transpileChild(outDir: string): string {
  const files = [
    ...tsFiles(path.join(ROOT, 'src')),
    path.join(__dirname, 'child.ts'),
    path.join(__dirname, 'protocol.ts'),
  ];
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    sourceMap: false,
  };
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
    });
    const out = path.join(outDir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  return path.join(outDir, 'bench', 'child.js');
}

/** Where the transpiled child finds its packages: this repository's node_modules. */
export const NODE_MODULES = path.join(ROOT, 'node_modules');
