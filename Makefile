# Builds every native artefact from source: the host's ABI shim, the C and Rust conformance
# plugins in examples/, and the broken fixtures the tests load. Run by `npm run build:native`
# (part of `npm run build`). Outputs are not committed (.gitignore).
CC ?= gcc
CFLAGS ?= -O2 -g -Wall -Wextra -fPIC -fvisibility=hidden
INCLUDE := -Ikits/c/include
SO := -shared
HOST_SHIM := dist/src/kinds/libpolyplug_host.so
# The process plugins' launcher: dies with the host, applies the Landlock sandbox, then execs.
LAUNCHER := dist/src/native/polyplug-launch
C_EXAMPLES := $(foreach p,inline worker process,examples/native-c-$(p)/libconformance.so)
# The escape matrix's sidecar probe is built on the C sidecar kit, whose JSON is jansson: empty it
# (ESCAPE_SIDECAR=) on a machine without libjansson-dev, as scripts/build.mjs does.
ESCAPE_SIDECAR := test/fixtures/escape/probe-sidecar
ESCAPE_PROBES := $(ESCAPE_SIDECAR) test/fixtures/escape/libprobe.so
FIXTURES := $(ESCAPE_PROBES) test/fixtures/native/wrong-abi.so test/fixtures/native/short-size.so test/fixtures/native/no-entry.so
RUST_LIB := kits/rust/target/release/libpolyplug_conformance.so
RUST_EXAMPLES := $(foreach p,inline worker process,examples/native-rust-$(p)/libconformance.so)

# One C source, two targets: the WASM kit's conformance source (kits/c/examples/conformance.c,
# from the wasm work) linked with kits/c/src/polyplug_wasm_bridge.c into a native plugin, for
# each examples/native-c-wasm-source-*/ folder present (their manifests wait in kits/c/bridge-examples/).
WASM_KIT_SOURCE := $(wildcard kits/c/examples/conformance.c)
BRIDGE_EXAMPLES := $(if $(WASM_KIT_SOURCE),$(patsubst %/polyplug.json,%/libconformance.so,$(wildcard examples/native-c-wasm-source-*/polyplug.json)))

.PHONY: native clean-native
native: $(LAUNCHER) $(HOST_SHIM) $(C_EXAMPLES) $(FIXTURES) $(RUST_EXAMPLES) $(BRIDGE_EXAMPLES)

examples/native-c-wasm-source-%/libconformance.so: kits/c/examples/conformance.c kits/c/src/polyplug_wasm_bridge.c kits/c/include/polyplug.h kits/c/include/polyplug_wasm.h
	$(CC) $(CFLAGS) -Wno-attributes -Wno-unused-but-set-variable $(INCLUDE) $(SO) -o $@ $(filter %.c,$^) -lpthread

$(LAUNCHER): src/native/launcher.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -o $@ $<

$(HOST_SHIM): src/kinds/native-host.c kits/c/include/polyplug.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -o $@ $< -lpthread

examples/native-c-%/libconformance.so: examples/shared/native-conformance.c kits/c/include/polyplug.h
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -o $@ $<

test/fixtures/native/wrong-abi.so: test/fixtures/native/bad-plugins.c kits/c/include/polyplug.h
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -DWRONG_ABI -o $@ $<
test/fixtures/native/short-size.so: test/fixtures/native/bad-plugins.c kits/c/include/polyplug.h
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -DSHORT_SIZE -o $@ $<
test/fixtures/native/no-entry.so: test/fixtures/native/bad-plugins.c kits/c/include/polyplug.h
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -DNO_ENTRY -o $@ $<

# The escape matrix's probes (test/escape-matrix.test.ts): an exec sidecar on the C sidecar kit, a native plugin.
C_SIDECAR_KIT := $(addprefix kits/c-sidecar/,polyplug.c polyplug_json.c polyplug_wire.c polyplug_stream.c polyplug.h polyplug_stream.h polyplug_transport.h)
test/fixtures/escape/probe-sidecar: test/fixtures/escape/probe-sidecar.c test/fixtures/escape/probes.h $(C_SIDECAR_KIT)
	$(CC) -O2 -Wall -Wextra -std=gnu11 -Ikits/c-sidecar -o $@ $(filter %.c,$^) -ljansson -lm
test/fixtures/escape/libprobe.so: test/fixtures/escape/probe-native.c test/fixtures/escape/probes.h kits/c/include/polyplug.h
	$(CC) $(CFLAGS) $(INCLUDE) $(SO) -o $@ $<

# cargo decides itself whether anything changed; --offline: serde_json comes from Debian's crate
# directory, which kits/rust/.cargo/config.toml names (cargo reads it from the directory it runs in).
$(RUST_LIB): FORCE
	cd kits/rust && cargo build --quiet --release --offline

examples/native-rust-%/libconformance.so: $(RUST_LIB)
	cp $< $@

FORCE:

clean-native:
	rm -f $(LAUNCHER) $(HOST_SHIM) $(C_EXAMPLES) $(FIXTURES) $(RUST_EXAMPLES) $(BRIDGE_EXAMPLES)
	cd kits/rust && cargo clean --quiet
