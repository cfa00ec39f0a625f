#pragma once
// Status and Result<T>: the one error style across fwcanary's module boundaries.
//
// A Status is either OK or carries a code and a message meant for a human ("spec.json:4:13:
// field 'rate': must be >= 0"). Exceptions thrown by third-party libraries (nlohmann-json,
// yaml-cpp, Boost.Process) are caught at the wrapper that calls them and turned into a Status;
// they never cross a module boundary.
//
// Thread safety: values; safe to copy between threads.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fwcanary {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // bad input: a spec, a scenario, a command line
    kNotFound,         // a file, a binary, a node that is not there
    kIOError,          // the OS refused: open, write, fsync, rename
    kCorruption,       // data read back differs from what was written
    kTimeout,          // a deadline passed
    kRefused,          // a safety check refused to act (foreign work directory, ...)
    kUnavailable,      // a peer or tool failed (fio exited non-zero, ssh dropped)
  };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  // An IOError whose message ends with strerror(err).
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", or "OK".
  std::string ToString() const;
  // The same error with context in front ("node-1: " + message); OK stays OK.
  Status Prefixed(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + message_);
  }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like a return value
  Result(Status s) : v_(std::move(s)) {}     // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok()
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace fwcanary
