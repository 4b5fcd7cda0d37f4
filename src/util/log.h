// Logging: one process-wide sink (stderr in the foreground, syslog once
// daemonized) with a level threshold. REPOFS_LOG(kInfo) << "..." builds the
// line in a local stream and emits it whole, so concurrent lines never
// interleave. LogOnce(key, ...) emits a given key at most once per process
// (used for odd bucket keys that would otherwise flood the log).
//
// Thread-safety: all functions are thread-safe. SetLogLevel/UseSyslog are
// meant to be called once at startup.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace repofs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warning"/"warn", "error". False if unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);
void UseSyslog(const char* ident);
void LogLine(LogLevel level, std::string_view line);
// Logs `line` only the first time `key` is seen. Returns true if logged.
bool LogOnce(LogLevel level, const std::string& key, std::string_view line);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace repofs

#define REPOFS_LOG(level)                                        \
  if (::repofs::LogLevel::level < ::repofs::GetLogLevel()) {     \
  } else                                                         \
    ::repofs::LogMessage(::repofs::LogLevel::level).stream()
