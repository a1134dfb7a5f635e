// Result<T>: a value or an Error (a Reason plus detail), for everything a client or a file can
// get wrong. GCC 12 has no std::expected in C++20; this is the small part of it we need.
//   Result<int> parse(std::string_view s);
//   auto r = parse("12");
//   if (!r) log(r.error().message()); else use(*r);
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/reason.h"

namespace jotgate {

// Why something failed; `detail` adds context ("claim 'exp'") but never a secret. `field`
// names the input that failed when there is one ("targetUri", "attributes.X-Role",
// "virtual_proxies[0].auth.jwt.key"), as data: nothing parses it back out of a message.
struct Error {
  Reason reason;
  std::string detail;
  std::string field;

  // "the token has expired" or "the token has expired: detail".
  std::string message() const;
  // "TOKEN_EXPIRED: the token has expired: detail", the CLI's and audit log's form.
  std::string describe() const;
};

inline Error make_error(Reason reason, std::string detail = {}) {
  return Error{reason, std::move(detail), {}};
}

// An error about one input field: `detail` says what is wrong with it, without its name.
inline Error make_field_error(Reason reason, std::string field, std::string detail = {}) {
  return Error{reason, std::move(detail), std::move(field)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{Reason::kBadRequest, {}, {}};
  bool ok_ = true;
};

}  // namespace jotgate
