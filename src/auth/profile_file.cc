#include "auth/profile_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <utility>

#include "util/handles.h"
#include "util/string_util.h"

namespace repofs::auth {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;  // a credentials file is tiny

// Cuts a trailing " # comment" / " ; comment" (whitespace before the mark).
std::string_view StripInlineComment(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == ';') && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
      return Trim(s.substr(0, i));
    }
  }
  return s;
}

// Reads the whole file; errno on failure.
Result<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{errno, std::strerror(errno)};
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errno, std::strerror(errno)};
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) return Error{EFBIG, "file too large"};
  }
  return text;
}

class ProfileSource final : public CredentialsSource {
 public:
  ProfileSource(std::string path, std::string profile, bool explicit_choice)
      : path_(std::move(path)),
        profile_(std::move(profile)),
        explicit_(explicit_choice) {}

  Result<Credentials> Fetch() override;

  std::string Describe() const override {
    return "profile " + profile_ + " in " + path_;
  }

 private:
  std::string Where() const {
    return "credentials file " + path_ + " (profile " + profile_ + ")";
  }
  Error Missing(const std::string& reason) const {
    if (explicit_) return SourceFailed(Where() + ": " + reason);
    return SourceAbsent(Where(), reason);
  }

  const std::string path_;
  const std::string profile_;
  const bool explicit_;
};

Result<Credentials> ProfileSource::Fetch() {
  Result<std::string> text = ReadSmallFile(path_);
  if (!text) {
    if (text.error().errno_value == ENOENT) return Missing("no such file");
    return SourceFailed("cannot read " + Where() + ": " + text.error().message);
  }
  IniFile ini = ParseIni(*text);
  auto section = ini.find(profile_);
  if (section == ini.end()) return Missing("no such profile");
  const auto& keys = section->second;
  auto get = [&keys](const char* key) -> std::string {
    auto it = keys.find(key);
    return it == keys.end() ? std::string() : it->second;
  };
  Credentials creds;
  creds.access_key_id = get("aws_access_key_id");
  creds.secret_access_key = get("aws_secret_access_key");
  creds.session_token = get("aws_session_token");
  if (creds.access_key_id.empty() && creds.secret_access_key.empty()) {
    return Missing("no aws_access_key_id / aws_secret_access_key");
  }
  if (creds.access_key_id.empty()) {
    return SourceFailed(Where() + ": aws_access_key_id is missing");
  }
  if (creds.secret_access_key.empty()) {
    return SourceFailed(Where() + ": aws_secret_access_key is missing");
  }
  return creds;
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile ini;
  std::map<std::string, std::string>* section = nullptr;
  bool last_value_empty = false;  // a "key =" line opens nested properties
  for (const std::string& raw : Split(text, '\n')) {
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      line = StripInlineComment(line);
      if (line.size() < 2 || line.back() != ']') {
        section = nullptr;  // malformed header: ignore until the next one
        continue;
      }
      section = &ini[std::string(Trim(line.substr(1, line.size() - 2)))];
      last_value_empty = false;
      continue;
    }
    if (section == nullptr) continue;
    if (indented && last_value_empty) continue;  // nested sub-property
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = ToLower(Trim(line.substr(0, eq)));
    std::string_view value = StripInlineComment(Trim(line.substr(eq + 1)));
    if (key.empty()) continue;
    last_value_empty = value.empty();
    (*section)[key] = std::string(value);
  }
  return ini;
}

std::unique_ptr<CredentialsSource> MakeProfileSource(std::string path,
                                                     std::string profile,
                                                     bool explicit_choice) {
  return std::make_unique<ProfileSource>(std::move(path), std::move(profile),
                                         explicit_choice);
}

}  // namespace repofs::auth
