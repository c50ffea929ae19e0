#!/usr/bin/env bash
# Rebuilds the committed example .wasm files from source (npm run build:wasm).
# Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (see .ci/run), and npx for AssemblyScript.
set -euo pipefail
cd "$(dirname "$0")/.."
CC="${CC:-clang}"
FLAGS=(--target=wasm32-wasi -O2 -mexec-model=reactor -Ikits/c/include -Wall -Wextra -Wno-unused-parameter)
# 64 MiB maximum declared in the module; the host checks it against limits.memoryMb.
# clang runs wasm-opt when it finds one on PATH, which changes the output: keep binaryen off PATH.
LINK=(-Wl,--max-memory=67108864 -Wl,--strip-all)
"$CC" "${FLAGS[@]}" "${LINK[@]}" -o examples/wasm-c-worker/plugin.wasm kits/c/examples/conformance.c
cp examples/wasm-c-worker/plugin.wasm examples/wasm-c-inline/plugin.wasm
cp examples/wasm-c-worker/plugin.wasm examples/wasm-c-process/plugin.wasm
# The same module importing its memory (no declared maximum): the host supplies a capped one.
"$CC" "${FLAGS[@]}" -Wl,--import-memory -Wl,--strip-all -o test/fixtures/wasm/import-memory.wasm kits/c/examples/conformance.c
echo "built examples/wasm-c-{worker,inline,process}/plugin.wasm"

# AssemblyScript from the npm registry (not a dependency of the package: only this rebuild needs it).
ASC=(npx --yes -p assemblyscript@0.28.20 asc)
"${ASC[@]}" kits/assemblyscript/examples/conformance.ts -O3 --runtime incremental --maximumMemory 1024 --use abort= \
  -o examples/wasm-as-worker/plugin.wasm
cp examples/wasm-as-worker/plugin.wasm examples/wasm-as-inline/plugin.wasm
echo "built examples/wasm-as-worker/plugin.wasm"

# The Extism fixtures (test/fixtures/wasm/extism-*.wat) need no step here: the tests compile them
# with wabt from npm.
