#!/usr/bin/env node
// A native-solc look-alike over npm `solc` (solc-js), for tools that expect a `solc` binary
// (py-solc-x, hence ape-solidity). It answers the two calls they make:
//   solc --version
//   solc --standard-json [--base-path P] [--allow-paths P,...] [-] < input.json
// Imports that the JSON does not carry are read from the base path, the allowed paths and the
// working directory, in that order. Exit happens only in stdout's write callback: exiting earlier
// truncates output larger than a pipe buffer (64 KiB).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const solc = require(path.join(__dirname, "..", "node_modules", "solc"));

function finish(text, code) {
  process.stdout.write(text, () => process.exit(code));
}

function nativeVersion() {
  // solc-js reports e.g. "0.8.37+commit.abcdef.Emscripten.clang"; native solc prints the line below.
  return solc.version().replace(".Emscripten.clang", ".Linux.g++");
}

function optionValues(argv, name) {
  const values = [];
  argv.forEach((arg, i) => {
    if (arg === name && i + 1 < argv.length) values.push(argv[i + 1]);
    else if (arg.startsWith(`${name}=`)) values.push(arg.slice(name.length + 1));
  });
  return values.flatMap((v) => v.split(",")).filter(Boolean);
}

function main(argv) {
  if (argv.includes("--version")) {
    return finish(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersion()}\n`, 0);
  }
  if (!argv.includes("--standard-json")) {
    process.stderr.write("solc-shim: only --version and --standard-json are supported\n");
    return process.exit(2);
  }
  const roots = [...optionValues(argv, "--base-path"), ...optionValues(argv, "--allow-paths"), process.cwd()];
  const findImports = (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: `File not found: ${importPath}` };
  };
  const input = fs.readFileSync(0, "utf8");
  finish(solc.compile(input, { import: findImports }), 0);
}

main(process.argv.slice(2));
