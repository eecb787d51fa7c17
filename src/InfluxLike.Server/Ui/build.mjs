// Bundles src/ into an output folder (default dist/): app.js (TypeScript + CodeMirror + uPlot, minified),
// app.css, index.html. esbuild's output is deterministic, so scripts/ui-build.sh --check can compare bytes.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] ?? "dist";
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "eof",
  charset: "utf8",
  outdir: out,
  logLevel: "warning",
});
await esbuild.build({
  entryPoints: { app: "src/app.css" },
  bundle: true,
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  outdir: out,
  logLevel: "warning",
});
copyFileSync("src/index.html", join(out, "index.html"));
