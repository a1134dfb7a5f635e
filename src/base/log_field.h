// One value of a text log line (audit and access log), written so that the line parses back
// into exactly the fields that were written: bare when made only of safe characters, else a
// double-quoted string with `"`, `\` and every byte outside printable ASCII escaped.
//   log_field("ACME\\alice")        -> ACME\alice
//   log_field("x event=sign_in")    -> "x event=sign_in"
//   log_field("a\"b\n")             -> "a\"b\n"      log_field("") -> -      log_field("-") -> "-"
#pragma once

#include <string>
#include <string_view>

namespace jotgate {

// Appends `value` as one field: `-` stands for an empty value, so a value that is `-` itself is
// quoted. Escapes inside quotes: \" \\ \n \r \t, and \xNN for other bytes below 0x20 or above
// 0x7e (non-ASCII text too: a log viewer never sees bidi overrides or line separators).
void append_log_field(std::string& out, std::string_view value);
std::string log_field(std::string_view value);

}  // namespace jotgate
