#include "base/service_notify.h"

#include <ctime>
#include <string>

#include <systemd/sd-daemon.h>

namespace jotgate {

namespace {

void notify(const std::string& state) {
  // < 0: the manager could not be told; nothing to do about it (the return is not an error of
  // the gateway's own work). 0: NOTIFY_SOCKET is not set.
  (void)sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready() { notify("READY=1"); }

void notify_reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { notify("STOPPING=1"); }

void notify_status(std::string_view text) {
  std::string status = "STATUS=";
  for (char c : text) status.push_back(c == '\n' || c == '\r' ? ' ' : c);
  notify(status);
}

}  // namespace jotgate
