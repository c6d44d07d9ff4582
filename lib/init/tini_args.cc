#include "init/tini_args.h"

#include <csignal>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace corral::init {
namespace {

constexpr std::string_view kOptions = "p:hvwgle:s";

std::string Usage(const std::string& name) {
  return absl::StrCat(
      name, " (corral ", CORRAL_VERSION, ", invoked as tini)\n",
      "Usage: ", name, " [OPTIONS] PROGRAM -- [ARGS] | --version\n\n",
      "Runs PROGRAM as corral's init shape, taking tini's options.\n\n"
      "Command line options (corral's own flag in brackets):\n\n"
      "  --version: Show version and exit.\n"
      "  -h: Show this help message and exit.\n"
      "  -s: Register as a process subreaper (corral always does).\n"
      "  -p SIGNAL: Trigger SIGNAL when parent dies, e.g. \"-p SIGKILL\" "
      "[--parent-death-signal].\n"
      "  -v: Generate more verbose output. Repeat up to 3 times "
      "[--log-level].\n"
      "  -w: Print a warning when processes are getting reaped.\n"
      "  -g: Send signals to the child's process group [--process-group].\n"
      "  -e EXIT_CODE: Remap EXIT_CODE (from 0 to 255) to 0 (can be "
      "repeated) [--success-exit-codes].\n"
      "  -l: Show license and exit.\n\n"
      "Environment variables:\n\n"
      "  TINI_SUBREAPER: Register as a process subreaper (corral always "
      "does).\n"
      "  TINI_VERBOSITY: Set the verbosity level (default: 1).\n"
      "  TINI_KILL_PROCESS_GROUP: Send signals to the child's process "
      "group.\n\n"
      "corral's log lines (JSON) go to standard error.\n");
}

// tini's -p takes the full names of the classic signals only: "SIGTERM".
std::optional<int> TiniSignal(const std::string& text) {
  if (text.rfind("SIG", 0) != 0) return std::nullopt;
  for (int sig = 1; sig < 32; ++sig) {
    if (sig == SIGSTKFLT || sig == SIGIO || sig == SIGPWR) continue;
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && text.substr(3) == abbrev) return sig;
  }
  return std::nullopt;
}

// atoi's reading: leading blanks, a sign, digits; anything else ends it.
long AtoiLike(const std::string& text) {
  return std::strtol(text.c_str(), nullptr, 10);
}

log::Level LevelOf(long verbosity) {
  if (verbosity < 0 || verbosity >= 3) return log::Level::kDebug;
  if (verbosity == 2) return log::Level::kInfo;
  if (verbosity == 1) return log::Level::kWarn;
  return log::Level::kError;
}

Invocation Answer(int code, std::string out, std::string err) {
  Invocation inv;
  inv.exit_code = code;
  inv.out = std::move(out);
  inv.err = std::move(err);
  return inv;
}

}  // namespace

Invocation ParseTiniArgs(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  const std::string self = argv.empty() ? "tini" : argv[0];
  const std::string name = self.substr(self.rfind('/') + 1);
  if (argv.size() == 2 && argv[1] == "--version") {
    return Answer(
        0, absl::StrCat("tini version (corral ", CORRAL_VERSION, ")\n"), "");
  }
  Invocation inv;
  inv.parsed.options = CompatDefaults();
  Options& o = inv.parsed.options;
  o.stop_group_at_exit = false;
  // tini ignores SIGTTIN and SIGTTOU sent to it: nothing is passed on.
  o.signal_rewrites = {{SIGTTIN, 0}, {SIGTTOU, 0}};
  long verbosity = 1;
  // getopt's order: options anywhere, operands kept in order, everything
  // after "--" an operand; with POSIXLY_CORRECT the first operand ends the
  // options.
  const bool posix = env.count("POSIXLY_CORRECT") > 0;
  bool options_done = false;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      inv.command.push_back(arg);
      if (posix) options_done = true;
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    for (size_t j = 1; j < arg.size(); ++j) {
      const char c = arg[j];
      const size_t at = kOptions.find(c);
      if (c == ':' || at == std::string_view::npos) {
        return Answer(1, "",
                      absl::StrCat(self, ": invalid option -- '",
                                   std::string(1, c), "'\n", Usage(name)));
      }
      std::string value;
      if (at + 1 < kOptions.size() && kOptions[at + 1] == ':') {
        if (j + 1 < arg.size()) {
          value = arg.substr(j + 1);
        } else if (i + 1 < argv.size()) {
          value = argv[++i];
        } else {
          return Answer(1, "",
                        absl::StrCat(self, ": option requires an argument -- '",
                                     std::string(1, c), "'\n", Usage(name)));
        }
        j = arg.size();
      }
      switch (c) {
        case 'h':
          return Answer(0, Usage(name), "");
        case 'l':
          return Answer(0,
                        absl::StrCat("corral ", CORRAL_VERSION,
                                     " (invoked as tini) has no license text "
                                     "of its own to show\n"),
                        "");
        case 's':  // corral is a subreaper whenever it is not PID 1
          break;
        case 'v':
          ++verbosity;
          break;
        case 'w':
          o.warn_on_reap = true;
          break;
        case 'g':
          o.process_group = true;
          break;
        case 'p': {
          std::optional<int> sig = TiniSignal(value);
          if (!sig) {
            return Answer(
                1, "",
                absl::StrCat(name, ": not a valid option for -p: ", value,
                             " (a signal name: SIGTERM, "
                             "SIGKILL, ...)\n"));
          }
          o.parent_death_signal = *sig;
          break;
        }
        case 'e': {
          int code = 0;
          if (!absl::SimpleAtoi(value, &code) || code < 0 || code > 255) {
            return Answer(1, "",
                          absl::StrCat(name, ": not a valid option for -e: ",
                                       value, " (an exit code, 0 to 255)\n"));
          }
          o.success_exit_codes.insert(code);
          break;
        }
      }
    }
  }
  if (inv.command.empty()) return Answer(1, "", Usage(name));
  if (env.count("TINI_KILL_PROCESS_GROUP")) o.process_group = true;
  if (auto v = env.find("TINI_VERBOSITY"); v != env.end()) {
    verbosity = AtoiLike(v->second);
  }
  o.log_level = LevelOf(verbosity);
  return inv;
}

}  // namespace corral::init
