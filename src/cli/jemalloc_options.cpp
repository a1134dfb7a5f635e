// jemalloc's options, read when the allocator starts; compiled only into a binary linked with
// jemalloc (src/cli/CMakeLists.txt). Without a background thread jemalloc gives freed pages back
// to the system only while the process keeps allocating: after a burst (8000 half-open TLS
// handshakes: 760 MB) an idle gateway stayed 430 MB larger for good. The background thread
// purges them after the default 10 s decay even when idle (bench/handshake_flood).
// MALLOC_CONF in the environment still overrides this.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "background_thread:true";
}
