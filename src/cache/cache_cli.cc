#include "cache/cache_cli.h"

#include <cerrno>
#include <cstdio>

#include "cache/cache_admin.h"
#include "util/string_util.h"

namespace repofs::cache {
namespace {

constexpr char kUsage[] =
    "usage: repofs cache stats|verify|prune|clear -o cache_dir=DIR"
    "[,cache_size=N][,cache_min_free=N]";

Status ApplyOption(std::string_view item, CacheCommand* command) {
  item = Trim(item);
  if (item.empty()) return OkStatus();
  size_t eq = item.find('=');
  std::string name(item.substr(0, eq));
  std::string value(eq == std::string_view::npos ? "" : item.substr(eq + 1));
  if (name == "cache_dir") {
    if (value.empty()) return Error{EINVAL, "cache_dir needs a value"};
    command->dir = value;
    return OkStatus();
  }
  if (name == "cache_size" || name == "cache_min_free") {
    std::optional<uint64_t> size = ParseSize(value);
    if (!size) {
      return Error{EINVAL, "bad " + name + " '" + value +
                               "' (a byte count, suffix K/M/G/T allowed)"};
    }
    (name == "cache_size" ? command->max_bytes : command->min_free_bytes) =
        *size;
    return OkStatus();
  }
  return Error{EINVAL, "unknown option '" + name + "' (" + kUsage + ")"};
}

int Fail(std::ostream& err, const Error& error) {
  err << "repofs cache: " << error.message << "\n";
  return 1;
}

int RunStats(const CacheCommand& command, std::ostream& out,
             std::ostream& err) {
  Result<CacheDirStats> stats = ReadCacheStats(command.dir);
  if (!stats) return Fail(err, stats.error());
  out << "cache dir:  " << command.dir;
  if (stats->in_use_by) out << " (in use by pid " << *stats->in_use_by << ")";
  out << "\nsize:       " << FormatBytes(stats->bytes) << " (" << stats->bytes
      << " bytes; " << FormatBytes(stats->disk_bytes) << " on disk)";
  if (command.max_bytes != 0) out << " of " << FormatBytes(command.max_bytes);
  out << "\nblocks:     " << stats->blocks << " of "
      << FormatBytes(stats->block_size) << "\nobjects:    " << stats->objects
      << "\nmetadata:   " << stats->meta_entries << " entries\nhit ratio:  ";
  uint64_t lookups = stats->hits + stats->misses;
  if (lookups == 0) {
    out << "n/a (no lookups recorded)\n";
  } else {
    char ratio[16];
    std::snprintf(ratio, sizeof ratio, "%.1f%%",
                  100.0 * static_cast<double>(stats->hits) /
                      static_cast<double>(lookups));
    out << ratio << " (" << stats->hits << " hits, " << stats->misses
        << " misses)\n";
  }
  return 0;
}

int RunVerify(const CacheCommand& command, std::ostream& out, std::ostream& err,
              bool progress_bar) {
  int last_percent = -1;
  auto progress = [&](uint64_t done, uint64_t total) {
    if (!progress_bar || total == 0) return;
    int percent = static_cast<int>(done * 100 / total);
    if (percent == last_percent) return;
    last_percent = percent;
    int filled = percent * 40 / 100;
    err << "\rverify [" << std::string(filled, '#')
        << std::string(40 - filled, ' ') << "] " << percent << "% (" << done
        << "/" << total << " blocks)" << std::flush;
  };
  Result<VerifyResult> result = VerifyCacheDir(
      AdminOptions(command.dir, command.max_bytes, command.min_free_bytes),
      progress);
  if (progress_bar && last_percent >= 0) err << "\n";
  if (!result) return Fail(err, result.error());
  out << "verified " << result->checked << " blocks: " << result->bad
      << " bad (dropped)\n";
  return 0;
}

}  // namespace

Result<CacheCommand> ParseCacheCommand(const std::vector<std::string>& args) {
  if (args.empty())
    return Error{EINVAL, std::string("no subcommand; ") + kUsage};
  CacheCommand command;
  const std::string& verb = args[0];
  if (verb == "stats") {
    command.action = CacheCommand::Action::kStats;
  } else if (verb == "verify") {
    command.action = CacheCommand::Action::kVerify;
  } else if (verb == "prune") {
    command.action = CacheCommand::Action::kPrune;
  } else if (verb == "clear") {
    command.action = CacheCommand::Action::kClear;
  } else {
    return Error{EINVAL, "unknown subcommand '" + verb + "'; " + kUsage};
  }
  for (size_t i = 1; i < args.size(); ++i) {
    std::string opts;
    if (args[i] == "-o") {
      if (i + 1 == args.size()) return Error{EINVAL, "-o needs a value"};
      opts = args[++i];
    } else if (StartsWith(args[i], "-o")) {
      opts = args[i].substr(2);
    } else {
      return Error{EINVAL, "unexpected argument '" + args[i] + "'; " + kUsage};
    }
    for (const std::string& item : Split(opts, ',')) {
      if (Status s = ApplyOption(item, &command); !s) return s.error();
    }
  }
  if (command.dir.empty()) {
    return Error{EINVAL, std::string("cache_dir is required; ") + kUsage};
  }
  return command;
}

int RunCacheCommandWith(const CacheCommand& command, std::ostream& out,
                        std::ostream& err, bool progress_bar) {
  CacheOptions options =
      AdminOptions(command.dir, command.max_bytes, command.min_free_bytes);
  switch (command.action) {
    case CacheCommand::Action::kStats:
      return RunStats(command, out, err);
    case CacheCommand::Action::kVerify:
      return RunVerify(command, out, err, progress_bar);
    case CacheCommand::Action::kPrune: {
      Result<CacheStats> stats = PruneCacheDir(options);
      if (!stats) return Fail(err, stats.error());
      out << "pruned: " << FormatBytes(stats->bytes) << " in " << stats->blocks
          << " blocks remain (" << stats->evictions << " entries evicted)\n";
      return 0;
    }
    case CacheCommand::Action::kClear: {
      if (Status s = ClearCacheDir(options); !s) return Fail(err, s.error());
      out << "cleared " << command.dir << "\n";
      return 0;
    }
  }
  return 2;
}

int RunCacheCommandArgs(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err, bool progress_bar) {
  Result<CacheCommand> command = ParseCacheCommand(args);
  if (!command) {
    err << "repofs cache: " << command.error().message << "\n";
    return 2;
  }
  return RunCacheCommandWith(*command, out, err, progress_bar);
}

}  // namespace repofs::cache
