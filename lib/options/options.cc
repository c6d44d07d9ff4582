#include "options/options.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "options/flag_table.h"

extern char** environ;

namespace corral {
namespace {

bool InSet(const Flag& f, FlagSet set) {
  return f.scope == FlagScope::kAll || set == FlagSet::kCommand;
}

std::string HelpOf(const Flag& f) {
  switch (f.scope) {
    case FlagScope::kProxy:
      return absl::StrCat("with --proxy: ", f.help);
    case FlagScope::kInit:
      return absl::StrCat("init shape only (no --listen): ", f.help);
    default:
      return f.help;
  }
}

const Flag* FindFlag(std::string_view name, FlagSet set) {
  for (const Flag& f : Flags()) {
    if (name == f.name && InSet(f, set)) return &f;
  }
  return nullptr;
}

// The top of `corral --help`: both shapes and what each signal does.
std::string CommandUsage(const std::string& program) {
  return absl::StrCat(
      "usage: ", program, " [flags] -- CMD [ARGS...]\n       ", program,
      " healthcheck [URL]   exit 0 when URL (default "
      "http://127.0.0.1:9901/readyz) answers 2xx\n\n"
      "Runs any program, in one of three shapes:\n\n"
      "Init (no --listen): CMD is the one child; a drop-in for tini and "
      "dumb-init.\n"
      "  Exits with CMD's exit code, or 128+N when signal N ended it; 127 "
      "when\n"
      "  CMD is not found, 126 when it cannot be executed. Orphans are "
      "reaped.\n"
      "  SIGTERM/SIGINT: readiness fails, --drain-delay passes, then CMD gets\n"
      "  the signal (--stop-signal when set); --drain-delay=0s is tini's "
      "behaviour.\n"
      "  Every other signal CMD could catch is passed on to it (to its "
      "process\n"
      "  group with --process-group). SIGHUP is not a roll: there is one "
      "child,\n"
      "  and it decides what SIGHUP means. Invoked as tini or dumb-init (a "
      "symlink\n"
      "  or copy under that name), corral takes that program's flags and\n"
      "  environment variables instead of its own: tini -h, dumb-init -h.\n\n"
      "Runtime (--listen=ADDR): one copy of CMD per CPU the pod may use, each\n"
      "  given the listening socket as fd 3 (LISTEN_FDS=1, LISTEN_PID, "
      "LISTEN_FDNAMES=http)\n"
      "  and CORRAL_WORKER, CORRAL_WORKERS, CORRAL_CONFIG_GENERATION, "
      "NOTIFY_SOCKET,\n"
      "  WATCHDOG_USEC, CORRAL_READY_FD (and CORRAL_CONFIG_DIR with "
      "--config-dir).\n"
      "  SIGTERM/SIGINT drain (readiness fails, --drain-delay, then\n"
      "  --stop-signal to each worker's process group, SIGKILL at "
      "--drain-timeout).\n"
      "  SIGHUP or a change in --config-dir rolls the workers one at a time.\n"
      "  No request metrics in this shape (corral never sees the requests).\n\n"
      "Proxy (--listen=ADDR --proxy): corral's own proxy workers hold the "
      "client\n"
      "  connections and forward each request, read in full, to the copy of "
      "CMD with\n"
      "  the fewest requests in flight; each copy listens on "
      "127.0.0.1:$PORT (or the\n"
      "  unix socket $PORT with --app-socket-dir). A copy\n"
      "  being replaced gets no new requests and gets --stop-signal only once "
      "its\n"
      "  last one is answered. Request metrics are exact, as in an app built "
      "on corral.\n\n"
      "  --help                   print this and exit\n"
      "  --version                print the version and exit\n\n"
      "flags (each also read from the environment variable shown; a flag "
      "wins):\n");
}

absl::Status Annotate(const absl::Status& s, const std::string& where) {
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

}  // namespace

absl::StatusOr<Readiness> ParseReadiness(std::string_view text) {
  for (Readiness r : {Readiness::kNotify, Readiness::kPipe, Readiness::kAlive,
                      Readiness::kPort, Readiness::kAuto}) {
    if (text == ReadinessName(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--ready must be notify, pipe, alive, port or auto, got \"",
                   std::string(text), "\""));
}

std::string_view ReadinessName(Readiness readiness) {
  switch (readiness) {
    case Readiness::kNotify:
      return "notify";
    case Readiness::kPipe:
      return "pipe";
    case Readiness::kAlive:
      return "alive";
    case Readiness::kPort:
      return "port";
    case Readiness::kAuto:
      break;
  }
  return "auto";
}

Readiness EffectiveReadiness(const Options& options) {
  if (options.ready != Readiness::kAuto) return options.ready;
  return options.proxy ? Readiness::kPort : Readiness::kAlive;
}

absl::StatusOr<int> ParseSignal(const std::string& text) {
  int n = 0;
  if (absl::SimpleAtoi(text, &n) && n > 0 && n < NSIG) return n;
  absl::string_view name = text;
  absl::ConsumePrefix(&name, "SIG");
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) return sig;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not a signal (examples: TERM, QUIT, 3)"));
}

std::string SignalName(int sig) {
  const char* abbrev = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : nullptr;
  return abbrev != nullptr ? abbrev : std::to_string(sig);
}

absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not host:port"));
  }
  Endpoint e;
  e.host = text.substr(0, colon);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  if (e.host.empty()) e.host = "0.0.0.0";
  int port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has no valid port (0-65535)"));
  }
  e.port = static_cast<uint16_t>(port);
  return e;
}

std::string FormatEndpoint(const Endpoint& e) {
  if (e.host.find(':') != std::string::npos) {
    return absl::StrCat("[", e.host, "]:", e.port);
  }
  return absl::StrCat(e.host, ":", e.port);
}

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds) && seconds >= 0) {
    return absl::Seconds(seconds);
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a duration (examples: 5s, 250ms, 1m30s)"));
  }
  return d;
}

absl::StatusOr<std::optional<double>> ParseMemoryGuard(
    const std::string& text) {
  if (text == "off") return std::optional<double>();
  double f = 0;
  if (!absl::SimpleAtod(text, &f) || !(f > 0 && f < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text,
        "\" is not off or a fraction of the memory limit between 0 and 1 "
        "(example: 0.9)"));
  }
  return std::optional<double>(f);
}

absl::StatusOr<int64_t> ParseByteSize(const std::string& text) {
  static constexpr std::pair<const char*, int64_t> kSuffixes[] = {
      {"Ki", int64_t{1} << 10}, {"Mi", int64_t{1} << 20},
      {"Gi", int64_t{1} << 30}, {"K", 1000},
      {"M", 1000 * 1000},       {"G", 1000 * 1000 * 1000}};
  absl::string_view number = text;
  int64_t unit = 1;
  for (const auto& [suffix, size] : kSuffixes) {
    if (absl::ConsumeSuffix(&number, suffix)) {
      unit = size;
      break;
    }
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(number, &n) || n < 0 ||
      n > std::numeric_limits<int64_t>::max() / unit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a size in bytes (examples: 512Mi, 1G, 0)"));
  }
  return n * unit;
}

absl::StatusOr<ParsedOptions> ParseOptions(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env, const Options& defaults,
    FlagSet set) {
  ParsedOptions parsed;
  parsed.options = defaults;
  for (const Flag& f : Flags()) {
    if (!InSet(f, set)) continue;
    auto it = env.find(f.env);
    if (it == env.end()) continue;
    absl::Status s = f.set(it->second, parsed.options);
    if (!s.ok()) return Annotate(s, absl::StrCat("environment ", f.env));
    parsed.given.insert(f.name);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (arg == "--version") {
      parsed.version = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", args[i], "\" (see --help)"));
    }
    std::string name(arg);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = FindFlag(name, set);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value && flag->boolean) {
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    absl::Status s = flag->set(value, parsed.options);
    if (!s.ok()) return Annotate(s, absl::StrCat("flag --", name));
    parsed.given.insert(flag->name);
  }
  return parsed;
}

std::string HelpText(const std::string& program, const Options& defaults,
                     FlagSet set) {
  std::string out =
      set == FlagSet::kCommand
          ? CommandUsage(program)
          : absl::StrCat(
                "usage: ", program, " [flags]\n       ", program,
                " healthcheck [URL]   exit 0 when URL (default "
                "http://127.0.0.1:9901/readyz) answers 2xx\n\n"
                "Runs a master (this process; PID 1 in a container) and one "
                "single-threaded\nworker per CPU the pod may use, all serving "
                "one "
                "listening socket.\nSIGTERM/SIGINT drain, SIGHUP rolls the "
                "workers one "
                "at "
                "a time.\n\n  --help                   print this and exit\n"
                "  --version                print the program's version and "
                "exit\n\n"
                "flags (each also read from the environment variable shown; "
                "a flag wins):\n");
  for (const FlagInfo& f : FlagTable(defaults)) {
    if (f.scope != FlagScope::kAll && set != FlagSet::kCommand) continue;
    absl::StrAppendFormat(&out, "  --%-22s %s\n  %-24s   default %s, env %s\n",
                          absl::StrCat(f.name, "=..."), f.help, "",
                          f.default_value, f.env);
  }
  return out;
}

std::vector<FlagInfo> FlagTable(const Options& defaults) {
  std::vector<FlagInfo> table;
  for (const Flag& f : Flags()) {
    table.push_back({f.name, f.env, HelpOf(f), f.scope, f.get(defaults)});
  }
  return table;
}

absl::Status CheckCommandFlags(const ParsedOptions& parsed) {
  const bool listen = parsed.given.count("listen") > 0;
  const bool proxy = listen && parsed.options.proxy;
  if (parsed.options.proxy && !listen) {
    return absl::InvalidArgumentError("--proxy needs --listen (see --help)");
  }
  for (const Flag& f : Flags()) {
    if (f.scope == FlagScope::kProxy && parsed.given.count(f.name) && !proxy) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", f.name, " needs --listen and --proxy (see --help)"));
    }
    if (f.scope == FlagScope::kInit && parsed.given.count(f.name) && listen) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", f.name,
          " is for the init shape only: corral -- CMD without --listen (see "
          "--help)"));
    }
  }
  if (parsed.given.count("request-deadline") && !proxy) {
    return absl::InvalidArgumentError(
        "--request-deadline needs --listen and --proxy: in socket mode the "
        "copies take the connections and corral never sees a request (see "
        "--help)");
  }
  // A C++ app's, and proxy mode's, but in socket mode the copies serve.
  for (const char* shedding : {"queue-target", "queue-interval", "priority"}) {
    if (parsed.given.count(shedding) && !proxy) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", shedding, " needs --listen and --proxy (see --help)"));
    }
  }
  if (parsed.given.count("shed-on-lag")) {
    return absl::InvalidArgumentError(
        "--shed-on-lag is for C++ apps on corral's library: in socket mode "
        "the copies serve the requests, and proxy mode sheds from its queue "
        "(see --help)");
  }
  for (const char* guard :
       {"max-requests", "max-requests-jitter", "max-worker-age",
        "max-worker-age-jitter", "max-worker-memory", "memory-guard"}) {
    if (parsed.given.count(guard) && !listen) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", guard,
          " needs --listen: the init shape has no workers to recycle (see "
          "--help)"));
    }
  }
  for (const char* counted : {"max-requests", "max-requests-jitter"}) {
    if (parsed.given.count(counted) && !proxy) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", counted,
          " needs --proxy: a command that takes the listening socket itself "
          "serves requests corral never sees, so it cannot count them "
          "(--max-worker-age and --max-worker-memory work without --proxy)"));
    }
  }
  if (parsed.options.ready == Readiness::kPort && !proxy) {
    return absl::InvalidArgumentError(
        "--ready=port needs --proxy: only then does each copy get its own "
        "$PORT (see --help)");
  }
  return absl::OkStatus();
}

std::string VersionText(const std::string& program,
                        const std::string& version) {
  return absl::StrCat(program, " ", version, " (corral ", CORRAL_VERSION,
                      ")\n");
}

std::map<std::string, std::string> CurrentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

}  // namespace corral
