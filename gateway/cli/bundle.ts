// The build step after tsc (`npm run build`): the `tillgate` program as one CommonJS file, dist/bin/program.cjs,
// with a V8 code cache made from it here (program.cjs.v8-cache), and the bin that runs it, dist/bin/tillgate.js
// (launcher.ts). A start then reads a few files instead of resolving, loading and compiling some 190 modules
// (docs/benchmarks.md, Start-up). Source maps are written beside each file: `node --enable-source-maps` maps stack
// traces to the .ts sources (not the default: reading the map costs a start ~300 ms, and the cache does not apply).
// Usage: node dist/gateway/cli/bundle.js
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { runCommonJs, writeCodeCache } from './code-cache.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT_DIR = join(ROOT, 'dist', 'bin');

/**
 * Packages loaded from node_modules as before, by name, each for a reason:
 * - native addons, which find their compiled .node file next to their own package;
 * - what only a scanner or one command imports (`await import`): serialport (native underneath) and cli-progress;
 * - packages that are mostly data: mime-db's JSON (JSON.parse reads it faster than V8 compiles it as a
 *   literal) and iconv-lite, whose ~500 KB of encoding tables load only when a body in such an encoding arrives.
 */
const KEPT: Record<string, string> = {
  'better-sqlite3': 'native',
  'node-hid': 'native',
  serialport: 'native, drivers only',
  '@serialport/*': 'drivers only',
  'cli-progress': 'tillgate sync only',
  'mime-db': 'data',
  'iconv-lite': 'data',
};

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isKept(name: string): boolean {
  return name in KEPT || (name.startsWith('@') && `${name.split('/')[0]}/*` in KEPT);
}

/**
 * Kept packages become requires by name, after checking that the copy found from dist/bin/ at run time is the one
 * the sources resolve to (a nested copy of another version would make a different program). An `await import` of
 * one becomes a require too, through a one-line module: the program runs from vm.Script, which has no ES module
 * loader, and esbuild gives the result the package's named exports as Node's loader does.
 */
function keepInNodeModules(): Plugin {
  const fromOutDir = createRequire(join(OUT_DIR, 'tillgate.js'));
  const packageDir = (file: string, name: string): string => {
    const marker = `${sep}node_modules${sep}${name.replaceAll('/', sep)}${sep}`;
    return file.slice(0, file.lastIndexOf(marker) + marker.length);
  };
  return {
    name: 'keep-in-node-modules',
    setup(bundler) {
      bundler.onResolve({ filter: /^[@a-z]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:')) return undefined;
        const name = packageName(args.path);
        if (!isKept(name)) return undefined;
        if (args.kind === 'dynamic-import') return { path: args.path, namespace: 'kept' };
        const bundled = await bundler.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'resolving',
        });
        if (bundled.errors.length > 0) return { errors: bundled.errors };
        const atRunTime = fromOutDir.resolve(`${name}/package.json`);
        if (packageDir(bundled.path, name) !== packageDir(atRunTime, name)) {
          const error = `${args.importer} uses ${bundled.path}, but dist/bin/ would load ${atRunTime}`;
          return { errors: [{ text: error }] };
        }
        return { path: args.path, external: true };
      });
      bundler.onLoad({ filter: /./, namespace: 'kept' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        resolveDir: ROOT,
      }));
    },
  };
}

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};
const PROGRAM = join(OUT_DIR, 'program.cjs');
const BIN = join(OUT_DIR, 'tillgate.js');

rmSync(OUT_DIR, { recursive: true, force: true });
const { metafile } = await build({
  ...COMMON,
  entryPoints: ['gateway/cli/program.ts'],
  outfile: PROGRAM,
  format: 'cjs',
  plugins: [keepInNodeModules()],
  // version.ts finds package.json from its own URL.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
});
const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
const dynamic = imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path);
if (dynamic.length > 0) throw new Error(`the program must not import() at run time: ${dynamic.join(', ')}`);
await build({ ...COMMON, entryPoints: ['gateway/cli/launcher.ts'], outfile: BIN, format: 'esm' });
chmodSync(BIN, 0o755);
// The cache holds what loading the program compiles: every module's top-level code (schemas, express, pino, ...).
writeCodeCache(PROGRAM, runCommonJs(PROGRAM, { useCache: false }));
