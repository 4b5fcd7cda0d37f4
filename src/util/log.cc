#include "util/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_set>

namespace repofs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_syslog{false};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return LOG_DEBUG;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kWarning: return LOG_WARNING;
    case LogLevel::kError: return LOG_ERR;
  }
  return LOG_INFO;
}

struct OnceSet {
  std::mutex mu;
  std::unordered_set<std::string> seen;  // GUARDED_BY(mu)
};

OnceSet& Once() {
  static OnceSet* set = new OnceSet();  // never destroyed: usable at exit
  return *set;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") *level = LogLevel::kDebug;
  else if (text == "info") *level = LogLevel::kInfo;
  else if (text == "warning" || text == "warn") *level = LogLevel::kWarning;
  else if (text == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

void UseSyslog(const char* ident) {
  openlog(ident, LOG_PID, LOG_DAEMON);
  g_syslog = true;
}

void LogLine(LogLevel level, std::string_view line) {
  if (g_syslog) {
    syslog(SyslogPriority(level), "%.*s", static_cast<int>(line.size()),
           line.data());
    return;
  }
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm tm_utc{};
  gmtime_r(&ts.tv_sec, &tm_utc);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm_utc);
  // One fprintf per line: stdio locks the stream, so lines never interleave.
  std::fprintf(stderr, "repofs %s.%03ld %s: %.*s\n", stamp, ts.tv_nsec / 1000000,
               LevelName(level), static_cast<int>(line.size()), line.data());
}

bool LogOnce(LogLevel level, const std::string& key, std::string_view line) {
  {
    OnceSet& once = Once();
    std::lock_guard<std::mutex> lock(once.mu);
    if (!once.seen.insert(key).second) return false;
  }
  if (level >= GetLogLevel()) LogLine(level, line);
  return true;
}

}  // namespace repofs
