#include "init/dumb_init_args.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace corral::init {
namespace {

// dumb-init rewrites the classic signals only.
constexpr int kMaxRewritable = 31;

struct LongOption {
  const char* name;
  char short_name;
  bool takes_value;
};

constexpr LongOption kLongOptions[] = {
    {"help", 'h', false},    {"single-child", 'c', false},
    {"rewrite", 'r', true},  {"verbose", 'v', false},
    {"version", 'V', false},
};

std::string Help(const std::string& self) {
  return absl::StrCat(
      "dumb-init (corral ", CORRAL_VERSION, ", invoked as dumb-init)\n",
      "Usage: ", self,
      " [option] command [[arg] ...]\n\n"
      "Runs command as corral's init shape, taking dumb-init's options.\n\n"
      "Optional arguments (corral's own flag in brackets):\n"
      "   -c, --single-child   Run in single-child mode.\n"
      "                        In this mode, signals are only proxied to the\n"
      "                        direct child and not any of its descendants.\n"
      "                        [default: --process-group]\n"
      "   -r, --rewrite s:r    Rewrite received signal s to new signal r "
      "before proxying.\n"
      "                        To ignore (not proxy) a signal, rewrite it to "
      "0.\n"
      "                        This option can be specified multiple times.\n"
      "                        [--rewrite-signal]\n"
      "   -v, --verbose        Print debugging information to stderr.\n"
      "   -h, --help           Print this help message and exit.\n"
      "   -V, --version        Print the current version and exit.\n\n"
      "Environment: DUMB_INIT_SETSID=0 is --single-child, DUMB_INIT_DEBUG=1 "
      "is --verbose.\n");
}

Invocation Answer(int code, std::string err) {
  Invocation inv;
  inv.exit_code = code;
  inv.err = std::move(err);
  return inv;
}

// sscanf's %d: blanks, a sign, at least one digit. Moves `at` past it.
bool ScanInt(const std::string& text, size_t& at, long& out) {
  while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])))
    ++at;
  size_t start = at;
  if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
  size_t digits = at;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])))
    ++at;
  if (at == digits || at - digits > 9) return false;
  out = std::stol(text.substr(start, at - start));
  return true;
}

// "s:r" as sscanf("%d:%d") reads it: what follows the second number does
// not matter; s from 1 to 31, r from 0 to 31.
bool ParseRewrite(const std::string& text, std::map<int, int>& rewrites) {
  size_t at = 0;
  long from = 0;
  long to = 0;
  if (!ScanInt(text, at, from) || at >= text.size() || text[at] != ':') {
    return false;
  }
  ++at;
  if (!ScanInt(text, at, to)) return false;
  if (from < 1 || from > kMaxRewritable || to < 0 || to > kMaxRewritable) {
    return false;
  }
  rewrites[static_cast<int>(from)] = static_cast<int>(to);
  return true;
}

}  // namespace

Invocation ParseDumbInitArgs(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env) {
  const std::string self = argv.empty() ? "dumb-init" : argv[0];
  Invocation inv;
  inv.parsed.options = CompatDefaults();
  Options& o = inv.parsed.options;
  o.log_level = log::Level::kError;
  o.stop_on_terminal_stop_signals = true;
  o.leave_working_directory = true;
  bool setsid = true;
  // Each option as getopt_long hands it over, in order: an answer ends the
  // parse at once.
  auto apply = [&](char c, const std::string& value) -> std::optional<int> {
    switch (c) {
      case 'h':
        inv.err = Help(self);
        return 0;
      case 'V':
        inv.err = absl::StrCat("dumb-init (corral ", CORRAL_VERSION, ")\n");
        return 0;
      case 'v':
        o.log_level = log::Level::kDebug;
        break;
      case 'c':
        setsid = false;
        break;
      case 'r':
        if (!ParseRewrite(value, o.signal_rewrites)) {
          inv.err = absl::StrCat(
              "Usage: -r option takes <signum>:<signum>, where <signum> is "
              "between 1 and ",
              kMaxRewritable,
              ".\nThis option can be specified multiple times.\nUse --help "
              "for full usage.\n");
          return 1;
        }
        break;
    }
    return std::nullopt;
  };
  auto answer = [&](int code) {
    Invocation out;
    out.exit_code = code;
    out.err = std::move(inv.err);
    return out;
  };
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the command
    // A long option is matched by its name or an unambiguous prefix.
    if (arg[1] == '-') {
      const std::string body = arg.substr(2);
      const size_t eq = body.find('=');
      const std::string given = body.substr(0, eq);
      const LongOption* match = nullptr;
      std::vector<const LongOption*> prefixed;
      for (const LongOption& l : kLongOptions) {
        const std::string_view name = l.name;
        if (name == given) {
          match = &l;
          break;
        }
        if (name.substr(0, given.size()) == given) prefixed.push_back(&l);
      }
      if (match == nullptr && prefixed.size() == 1) match = prefixed[0];
      if (match == nullptr && prefixed.size() > 1) {
        std::string err = absl::StrCat(self, ": option '", arg,
                                       "' is ambiguous; possibilities:");
        for (const LongOption* l : prefixed) {
          absl::StrAppend(&err, " '--", l->name, "'");
        }
        return Answer(1, err + "\n");
      }
      if (match == nullptr) {
        return Answer(
            1, absl::StrCat(self, ": unrecognized option '", arg, "'\n"));
      }
      std::string value;
      if (eq != std::string_view::npos) {
        if (!match->takes_value) {
          return Answer(1, absl::StrCat(self, ": option '--", match->name,
                                        "' doesn't allow an argument\n"));
        }
        value = std::string(body.substr(eq + 1));
      } else if (match->takes_value) {
        if (i + 1 >= argv.size()) {
          return Answer(1, absl::StrCat(self, ": option '--", match->name,
                                        "' requires an argument\n"));
        }
        value = argv[++i];
      }
      if (auto code = apply(match->short_name, value)) return answer(*code);
    } else {
      for (size_t j = 1; j < arg.size(); ++j) {
        const char c = arg[j];
        if (c != 'h' && c != 'v' && c != 'V' && c != 'c' && c != 'r') {
          return Answer(1, absl::StrCat(self, ": invalid option -- '",
                                        std::string(1, c), "'\n"));
        }
        std::string value;
        if (c == 'r' && j + 1 < arg.size()) {
          value = arg.substr(j + 1);
          j = arg.size();
        } else if (c == 'r' && i + 1 < argv.size()) {
          value = argv[++i];
        } else if (c == 'r') {
          return Answer(1,
                        absl::StrCat(self, ": option requires an argument -- '",
                                     std::string(1, c), "'\n"));
        }
        if (auto code = apply(c, value)) return answer(*code);
      }
    }
  }
  inv.command.assign(argv.begin() + std::min(i, argv.size()), argv.end());
  if (inv.command.empty()) {
    return Answer(
        1, absl::StrCat("Usage: ", self, " [option] program [args]\nTry ", self,
                        " --help for full usage.\n"));
  }
  if (auto d = env.find("DUMB_INIT_DEBUG");
      d != env.end() && d->second == "1") {
    o.log_level = log::Level::kDebug;
  }
  if (auto s = env.find("DUMB_INIT_SETSID");
      s != env.end() && s->second == "0") {
    setsid = false;
  }
  o.process_group = setsid;
  o.stop_group_at_exit = setsid;
  if (setsid) {
    // dumb-init's rule: its child, in a session of its own, is an orphaned
    // process group, which the terminal's stop signals would not stop.
    for (int sig : {SIGTSTP, SIGTTOU, SIGTTIN}) {
      o.signal_rewrites.emplace(sig, SIGSTOP);
    }
  }
  return inv;
}

}  // namespace corral::init
