// The build step after tsc (`npm run build`): the `tillgate` program as one bundle, dist/bin/tillgate.js, so a
// start compiles a few files instead of resolving and loading some 190 modules one by one (docs/benchmarks.md,
// Start-up). What a command imports inside its `run` becomes a chunk of its own under dist/bin/chunks/ and is
// still loaded only by that command. Source maps are written beside each file (`node --enable-source-maps` maps
// stack traces to the .ts sources; it is not the default because mapping costs a start ~150 ms).
// Usage: node dist/gateway/cli/bundle.js
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT_DIR = join(ROOT, 'dist', 'bin');

/**
 * Packages loaded from node_modules as before, by name, each for a reason:
 * - native addons, which find their compiled .node file next to their own package;
 * - what only a command's `run` or a scanner imports (`await import`): esbuild's split chunks would give a
 *   CommonJS package only a default export there, while Node's loader also gives its named exports;
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
 * Kept packages become imports by name, after checking that the copy found from dist/bin/ at run time is the one
 * the sources resolve to (a nested copy of another version would make a different program); a dynamic import of
 * any other package stops the build, for the reason above.
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
        if (!isKept(name)) {
          if (args.kind !== 'dynamic-import') return undefined;
          return {
            errors: [{ text: `${args.importer}: import('${args.path}') must be of a package kept out` }],
          };
        }
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
    },
  };
}

rmSync(OUT_DIR, { recursive: true, force: true }); // chunks are named by hash: no stale ones are left
await build({
  absWorkingDir: ROOT,
  entryPoints: { tillgate: 'gateway/cli/main.ts' },
  outdir: OUT_DIR,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  plugins: [keepInNodeModules()],
  sourcemap: 'linked',
  sourcesContent: false,
  // The CommonJS packages inside (express, pino, prom-client) call require for Node's own modules.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(join(OUT_DIR, 'tillgate.js'), 0o755);
