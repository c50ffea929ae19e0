#!/usr/bin/env bash
# Rebuilds the committed example .wasm files from source (npm run build:wasm).
# Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
CC="${CC:-clang}"
FLAGS=(--target=wasm32-wasi -O2 -mexec-model=reactor -Ikits/c/include -Wall -Wextra -Wno-unused-parameter)
# 64 MiB maximum declared in the module; the host checks it against limits.memoryMb.
LINK=(-Wl,--max-memory=67108864 -Wl,--strip-all)
"$CC" "${FLAGS[@]}" "${LINK[@]}" -o examples/wasm-c-worker/plugin.wasm kits/c/examples/conformance.c
cp examples/wasm-c-worker/plugin.wasm examples/wasm-c-inline/plugin.wasm
echo "built examples/wasm-c-{worker,inline}/plugin.wasm"
