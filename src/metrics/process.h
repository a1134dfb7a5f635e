// The process's own figures for the standard process_* metrics, read from /proc/self (Linux).
//   ProcessFigures now = read_process_figures();   // zeros where /proc cannot be read
#pragma once

#include <cstdint>

namespace jotgate::metrics {

struct ProcessFigures {
  std::uint64_t resident_bytes = 0;  // process_resident_memory_bytes
  double cpu_seconds = 0;            // process_cpu_seconds_total (user + system)
  std::uint64_t open_fds = 0;        // process_open_fds
};

ProcessFigures read_process_figures();

}  // namespace jotgate::metrics
