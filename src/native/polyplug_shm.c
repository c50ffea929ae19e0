/*
 * polyplug_shm: the two things Node does not do well enough for the shm transport.
 * - map(fd, size): an ArrayBuffer over a MAP_SHARED mapping of the file; the mapping is released
 *   when the ArrayBuffer is garbage-collected (never while a view could still touch it).
 * - copy(dst, offset, src): memmove between two Uint8Arrays. V8 copies into and out of a
 *   SharedArrayBuffer byte by byte with relaxed atomics (about 40x slower than memcpy here); the
 *   ring protocol already guarantees nobody else touches those bytes during the copy.
 * Node-API only, so one build serves Node 20, 22 and 24. Built by scripts/build-native.mjs.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    return throw_error(env, "INVALID_PARAMS", "map(fd, size) takes two numbers");
  }
  int32_t fd;
  int64_t size;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &size) != napi_ok || size <= 0) {
    return throw_error(env, "INVALID_PARAMS", "map(fd, size) takes a file descriptor and a positive size");
  }
  void *addr = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return throw_error(env, "TRANSPORT_UNAVAILABLE", "mmap of the shm region failed");
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, addr, (size_t)size, unmap, (void *)(uintptr_t)size, &buffer) != napi_ok) {
    munmap(addr, (size_t)size);
    return throw_error(env, "TRANSPORT_UNAVAILABLE", "cannot wrap the mapping in an ArrayBuffer");
  }
  return buffer;
}

static int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = raw;
  return 1;
}

static napi_value copy(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint8_t *dst, *src;
  size_t dst_len, src_len;
  int64_t offset;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || !bytes_of(env, argv[0], &dst, &dst_len) ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok || !bytes_of(env, argv[2], &src, &src_len)) {
    return throw_error(env, "INVALID_PARAMS", "copy(dst: Uint8Array, offset: number, src: Uint8Array)");
  }
  if (offset < 0 || (uint64_t)offset > dst_len || src_len > dst_len - (size_t)offset) return throw_error(env, "INVALID_PARAMS", "copy: source does not fit at that offset");
  if (src_len > 0) memmove(dst + offset, src, src_len);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  napi_create_function(env, "copy", NAPI_AUTO_LENGTH, copy, NULL, &fn);
  napi_set_named_property(env, exports, "copy", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
