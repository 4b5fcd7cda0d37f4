#include "daemon/config.h"

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>

#include "util/encoding.h"
#include "util/hash.h"
#include "util/string_util.h"

namespace repofs::daemon {
namespace {

using Handler = std::function<Status(const std::string& value, Config* c)>;

Error Bad(const std::string& message) { return Error{EINVAL, message}; }

// Options that take a value are parsed by these helpers.
Handler Size(uint64_t ReadaheadOptions::*field) {
  return [field](const std::string& v, Config* c) -> Status {
    auto size = ParseSize(v);
    if (!size || *size == 0) return Bad("bad size '" + v + "' (use e.g. 1048576, 512k, 8M, 2G)");
    c->fs.readahead.*field = *size;
    return OkStatus();
  };
}

Handler CacheSize(uint64_t CacheConfig::*field, uint64_t min_value) {
  return [field, min_value](const std::string& v, Config* c) -> Status {
    auto size = ParseSize(v);
    if (!size || *size < min_value) {
      return Bad("bad size '" + v + "' (at least " + std::to_string(min_value) +
                 " bytes; use e.g. 512M, 10G)");
    }
    c->cache.*field = *size;
    return OkStatus();
  };
}

Handler PositiveInt(int* (*field)(Config*), int max_value) {
  return [field, max_value](const std::string& v, Config* c) -> Status {
    auto n = ParseInt(v);
    if (!n || *n < 1 || *n > max_value) {
      return Bad("bad number '" + v + "' (1.." + std::to_string(max_value) + ")");
    }
    *field(c) = static_cast<int>(*n);
    return OkStatus();
  };
}

Handler NonNegativeInt(int* (*field)(Config*), int max_value) {
  return [field, max_value](const std::string& v, Config* c) -> Status {
    auto n = ParseInt(v);
    if (!n || *n < 0 || *n > max_value) {
      return Bad("bad number '" + v + "' (0.." + std::to_string(max_value) + ")");
    }
    *field(c) = static_cast<int>(*n);
    return OkStatus();
  };
}

Handler Octal(mode_t FsOptions::*field, mode_t max_value) {
  return [field, max_value](const std::string& v, Config* c) -> Status {
    if (v.empty() || v.size() > 5 || v.find_first_not_of("01234567") != std::string::npos) {
      return Bad("bad octal mode '" + v + "'");
    }
    mode_t m = static_cast<mode_t>(std::stoul(v, nullptr, 8));
    if (m > max_value) return Bad("mode '" + v + "' out of range");
    c->fs.*field = m;
    return OkStatus();
  };
}

Handler Id(bool is_uid) {
  return [is_uid](const std::string& v, Config* c) -> Status {
    auto n = ParseInt(v);
    if (!n || *n < 0 || *n > 0x7fffffff) return Bad("bad id '" + v + "'");
    if (is_uid) c->fs.uid = static_cast<uid_t>(*n);
    else c->fs.gid = static_cast<gid_t>(*n);
    return OkStatus();
  };
}

Handler Duration(std::chrono::milliseconds FsOptions::*field) {
  return [field](const std::string& v, Config* c) -> Status {
    auto ms = ParseDurationMs(v);
    if (!ms) return Status(ms.error());
    c->fs.*field = std::chrono::milliseconds(*ms);
    return OkStatus();
  };
}

Handler TimeoutMs(int S3Options::*field, int unit_ms) {
  return [field, unit_ms](const std::string& v, Config* c) -> Status {
    auto ms = ParseDurationMs(v);
    if (!ms) return Status(ms.error());
    if (*ms > 24LL * 3600 * 1000) return Bad("timeout '" + v + "' too large");
    c->s3.*field = static_cast<int>(*ms / unit_ms);
    return OkStatus();
  };
}

Handler Text(std::string* (*field)(Config*)) {
  return [field](const std::string& v, Config* c) -> Status {
    if (v.empty()) return Bad("needs a value");
    *field(c) = v;
    return OkStatus();
  };
}

Handler Flag(std::function<void(Config*)> set) {
  return [set](const std::string& v, Config* c) -> Status {
    if (!v.empty()) return Bad("option takes no value (got '=" + v + "')");
    set(c);
    return OkStatus();
  };
}

const std::map<std::string, Handler>& Handlers() {
  static const auto* table = new std::map<std::string, Handler>{
      {"endpoint", Text([](Config* c) { return &c->s3.endpoint; })},
      {"region", Text([](Config* c) { return &c->s3.region; })},
      {"path_style", Flag([](Config* c) { c->s3.path_style = true; })},
      {"virtual_hosted", Flag([](Config* c) { c->s3.path_style = false; })},
      {"profile", Text([](Config* c) { return &c->credentials.profile; })},
      {"credentials_file", Text([](Config* c) { return &c->credentials.credentials_file; })},
      {"ca_file", Text([](Config* c) { return &c->s3.ca_file; })},
      {"no_verify_tls", Flag([](Config* c) { c->s3.verify_tls = false; })},
      {"storage_class", Text([](Config* c) { return &c->s3.storage_class; })},
      {"sse", [](const std::string& v, Config* c) -> Status {
         if (v != "AES256" && v != "aws:kms") return Bad("sse must be AES256 or aws:kms");
         c->s3.sse = v;
         return OkStatus();
       }},
      {"sse_kms_key_id", Text([](Config* c) { return &c->s3.sse_kms_key_id; })},
      {"sign_payload", Flag([](Config* c) { c->s3.sign_payload = true; })},
      {"connect_timeout", TimeoutMs(&S3Options::connect_timeout_ms, 1)},
      {"request_timeout", TimeoutMs(&S3Options::request_timeout_ms, 1)},
      {"low_speed_time", TimeoutMs(&S3Options::low_speed_time_s, 1000)},
      {"low_speed_limit", NonNegativeInt([](Config* c) { return &c->s3.low_speed_bytes; }, 1 << 30)},
      {"max_retries", NonNegativeInt([](Config* c) { return &c->s3.max_retries; }, 100)},
      {"max_connections", PositiveInt([](Config* c) { return &c->s3.max_connections; }, 1024)},
      {"uid", Id(true)},
      {"gid", Id(false)},
      {"umask", Octal(&FsOptions::umask, 0777)},
      {"file_mode", Octal(&FsOptions::file_mode, 07777)},
      {"dir_mode", Octal(&FsOptions::dir_mode, 07777)},
      {"allow_other", Flag([](Config* c) { c->allow_other = true; })},
      {"default_permissions", Flag([](Config* c) { c->default_permissions = true; })},
      {"ro", Flag([](Config* c) { c->fs.read_only = true; })},
      {"rw", Flag([](Config* c) { c->fs.read_only = false; })},
      {"metadata_ttl", Duration(&FsOptions::metadata_ttl)},
      {"negative_ttl", Duration(&FsOptions::negative_ttl)},
      {"attr_source", [](const std::string& v, Config* c) -> Status {
         if (v == "head") c->fs.attr_source = AttrSource::kHead;
         else if (v == "list") c->fs.attr_source = AttrSource::kList;
         else return Bad("attr_source must be head or list");
         return OkStatus();
       }},
      {"head_parallelism", PositiveInt([](Config* c) { return &c->fs.head_parallelism; }, 1024)},
      {"readahead_initial", Size(&ReadaheadOptions::initial)},
      {"readahead_max", Size(&ReadaheadOptions::max)},
      {"readahead_request_size", Size(&ReadaheadOptions::request_size)},
      {"readahead_memory", Size(&ReadaheadOptions::memory_limit)},
      {"readahead_parallelism", PositiveInt([](Config* c) { return &c->fs.readahead.parallelism; }, 256)},
      {"cache_dir", Text([](Config* c) { return &c->cache.dir; })},
      {"cache_size", CacheSize(&CacheConfig::max_bytes, 16ull << 20)},
      {"cache_min_free", [](const std::string& v, Config* c) -> Status {
         auto size = ParseSize(v);
         if (!size) return Bad("bad size '" + v + "' (use e.g. 0, 512M, 2G)");
         c->cache.min_free_bytes = *size;
         return OkStatus();
       }},
      {"block_size", [](const std::string& v, Config* c) -> Status {
         auto size = ParseSize(v);
         if (!size || *size < 4096 || *size > (64ull << 20) || (*size & (*size - 1)) != 0) {
           return Bad("block_size must be a power of two from 4k to 64M (got '" + v + "')");
         }
         c->cache.block_size = *size;
         return OkStatus();
       }},
      {"no_cache", Flag([](Config* c) { c->cache.enabled = false; })},
      {"stale_if_error", Flag([](Config* c) { c->fs.stale_if_error = true; })},
      {"no_stale_if_error", Flag([](Config* c) { c->fs.stale_if_error = false; })},
      {"passthrough", Flag([](Config* c) { c->passthrough = true; })},
      {"no_passthrough", Flag([](Config* c) { c->passthrough = false; })},
      {"upload_part_size", [](const std::string& v, Config* c) -> Status {
         auto size = ParseSize(v);
         if (!size || *size < (5ull << 20) || *size > (5ull << 30)) {
           return Bad("bad part size '" + v + "' (5M..5G)");
         }
         c->fs.write.part_size = *size;
         return OkStatus();
       }},
      {"upload_parallelism", PositiveInt([](Config* c) { return &c->fs.write.upload_parallelism; }, 64)},
      {"fuse_threads", PositiveInt([](Config* c) { return &c->fuse_threads; }, 1024)},
      {"transfer_threads", PositiveInt([](Config* c) { return &c->transfer_threads; }, 1024)},
      {"fsname", Text([](Config* c) { return &c->fsname; })},
      {"log_level", [](const std::string& v, Config* c) -> Status {
         if (!ParseLogLevel(v, &c->log_level)) return Bad("log_level must be debug, info, warning or error");
         return OkStatus();
       }},
  };
  return *table;
}

// Generic mount(8)/fstab options that are meaningful to mount or systemd,
// not to repofs: accepted and ignored.
bool IsIgnoredMountOption(const std::string& name) {
  static const char* kIgnored[] = {"_netdev", "nofail", "noauto", "auto", "defaults",
                                   "user", "nouser", "users", "suid", "nosuid",
                                   "dev", "nodev", "exec", "noexec", "atime",
                                   "noatime", "relatime", "strictatime", "async",
                                   "sync", "loop"};
  for (const char* ignored : kIgnored) {
    if (name == ignored) return true;
  }
  return StartsWith(name, "x-systemd.") || StartsWith(name, "x-") ||
         name == "comment";
}

}  // namespace

std::string DefaultCacheDir(const Config& config) {
  std::string base;
  if (geteuid() == 0) {
    base = "/var/cache/repofs";
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    base = std::string(xdg) + "/repofs";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = std::string(home) + "/.cache/repofs";
  } else {
    base = "/var/tmp/repofs-cache-" + std::to_string(geteuid());
  }
  const std::string identity =
      config.s3.endpoint + "\n" + config.s3.region + "\n" + config.bucket +
      "\n" + config.prefix;
  return base + "/" + config.bucket + "-" +
         HexEncode(Sha256(identity)).substr(0, 8);
}

std::vector<std::string> OptionNames() {
  std::vector<std::string> names;
  for (const auto& [name, handler] : Handlers()) names.push_back(name);
  return names;
}

Result<long long> ParseDurationMs(const std::string& text) {
  std::string digits = text;
  long long unit = 1000;  // bare numbers are seconds
  if (EndsWith(text, "ms")) {
    unit = 1;
    digits = text.substr(0, text.size() - 2);
  } else if (EndsWith(text, "s")) {
    digits = text.substr(0, text.size() - 1);
  } else if (EndsWith(text, "m")) {
    unit = 60000;
    digits = text.substr(0, text.size() - 1);
  } else if (EndsWith(text, "h")) {
    unit = 3600000;
    digits = text.substr(0, text.size() - 1);
  }
  auto n = ParseInt(digits);
  if (!n || *n < 0 || *n > 365LL * 24 * 3600 * 1000 / unit) {
    return Error{EINVAL, "bad duration '" + text + "' (use e.g. 30, 30s, 500ms, 5m)"};
  }
  return *n * unit;
}

Status ApplyOptions(const std::string& option_list, Config* config) {
  for (const std::string& item : Split(option_list, ',')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (IsIgnoredMountOption(name)) continue;
    auto it = Handlers().find(name);
    if (it == Handlers().end()) {
      return Bad("unknown option '" + name + "' (see repofs --help)");
    }
    Status status = it->second(value, config);
    if (!status.ok()) {
      return Bad("option '" + name + "': " + status.error().message);
    }
  }
  return OkStatus();
}

Status ParseBucketSpec(const std::string& spec, Config* config) {
  size_t colon = spec.find(':');
  std::string bucket = spec.substr(0, colon);
  std::string prefix = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (bucket.size() < 3 || bucket.size() > 63 ||
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") != std::string::npos) {
    return Bad("bad bucket name '" + bucket + "' (expected BUCKET[:/PREFIX])");
  }
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.find("//") != std::string::npos) return Bad("bad prefix '" + prefix + "'");
  config->bucket = bucket;
  config->prefix = prefix.empty() ? "" : prefix + "/";
  config->s3.bucket = bucket;
  config->fs.prefix = config->prefix;
  return OkStatus();
}

}  // namespace repofs::daemon
