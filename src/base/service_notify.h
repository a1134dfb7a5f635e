// Tells the service manager what the gateway is doing (systemd's sd_notify protocol, for a
// unit of Type=notify): ready once listening, reloading, stopping, and a one-line status.
//   notify_ready();                         // after the listeners are bound
//   notify_reloading(); ... notify_ready();  // around a configuration reload
//   notify_stopping();                      // when the graceful stop begins
// Each is a no-op when NOTIFY_SOCKET is not set (not started by systemd), and never fails:
// the gateway serves the same whether or not anyone listens.
#pragma once

#include <string_view>

namespace jotgate {

void notify_ready();
// RELOADING=1 with MONOTONIC_USEC (the reload's start), as systemd asks; READY=1 ends it.
void notify_reloading();
void notify_stopping();
// STATUS=: shown by `systemctl status`; line breaks become spaces (one field).
void notify_status(std::string_view text);

}  // namespace jotgate
