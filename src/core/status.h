// Status and Result<T>: errors as values on every request path.
//
// Member names follow std::expected (has_value, value, error, value_or) so a later move to
// C++23 is mechanical. A Status carries a code, which the HTTP layer maps to a status code in
// one table (http/status_map.cc), and a human message, which becomes the HTTP reason phrase
// and body: write it for the person running twine or pip.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pipy {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // malformed input from a client (HTTP 400)
  kUnauthenticated,    // no or unknown credentials (401)
  kPermissionDenied,   // known caller, not allowed (403)
  kNotFound,           // (404)
  kNotAcceptable,      // content negotiation failed (406)
  kAlreadyExists,      // conflicts with stored, immutable state (409)
  kTooLarge,           // a body or value over its limit (413)
  kUnavailable,        // a backend is down; retrying later may work (503)
  kDeadlineExceeded,   // a backend or peer took too long (504)
  kBadGateway,         // an upstream answered nonsense (502)
  kInsufficientStorage,  // the disk (or a quota) is full; frees up by itself or by ops (507)
  kTooManyRequests,    // this client asked too often; retrying later works (429)
  kDataLoss,           // stored bytes do not match what was recorded (500)
  kInternal,           // a bug or an unexpected library failure (500)
};

// Returns the code's name, e.g. "INVALID_ARGUMENT", for logs.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: no such project" — for logs.
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status InsufficientStorage(std::string m) {
  return {StatusCode::kInsufficientStorage, std::move(m)};
}
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status TooManyRequests(std::string m) {
  return {StatusCode::kTooManyRequests, std::move(m)};
}

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).ok() && "Result<T> built from an OK Status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; only valid when !has_value().
  const Status& error() const { return std::get<1>(v_); }
  // OK when holding a value, else the error.
  Status status() const { return has_value() ? Status() : error(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pipy

// Evaluates EXPR (a Status); returns it from the calling function when not OK.
#define PIPY_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::pipy::Status pipy_status_ = (expr);   \
    if (!pipy_status_.ok()) {               \
      return pipy_status_;                  \
    }                                       \
  } while (0)

#define PIPY_CONCAT_INNER_(a, b) a##b
#define PIPY_CONCAT_(a, b) PIPY_CONCAT_INNER_(a, b)

// Evaluates EXPR (a Result<T>); on error returns the error, else moves the value into LHS.
#define PIPY_ASSIGN_OR_RETURN(lhs, expr) \
  PIPY_ASSIGN_OR_RETURN_IMPL_(PIPY_CONCAT_(pipy_result_, __LINE__), lhs, expr)
#define PIPY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.has_value()) {                           \
    return tmp.error();                             \
  }                                                 \
  lhs = std::move(tmp).value()
