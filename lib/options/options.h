// Command-line flags, each also read from an environment variable, so the same
// settings work from a shell, a Dockerfile and a Kubernetes pod spec.
#ifndef CORRAL_OPTIONS_OPTIONS_H_
#define CORRAL_OPTIONS_OPTIONS_H_

#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "log/log.h"

namespace corral {

// When a worker of `corral -- CMD` counts as ready: it says READY=1 on
// $NOTIFY_SOCKET (kNotify), writes a line to $CORRAL_READY_FD (kPipe), has
// been alive for --ready-after (kAlive), or accepts connections on its $PORT
// (kPort, proxy mode only). kAuto: kPort with --proxy, else kAlive.
enum class Readiness { kAuto, kNotify, kPipe, kAlive, kPort };

absl::StatusOr<Readiness> ParseReadiness(std::string_view text);
// "notify", "pipe", "alive", "port" or "auto".
std::string_view ReadinessName(Readiness readiness);

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

struct Options {
  Endpoint listen{"0.0.0.0", 8080};
  Endpoint admin{"0.0.0.0", 9901};
  std::optional<int> workers;  // nullopt = auto (from the pod's CPUs)
  absl::Duration drain_delay = absl::Seconds(5);
  // At SIGTERM: readiness fails at once (true), or stays up through the
  // drain delay (false, the default: see docs/kubernetes.md).
  bool readiness_fails_at_term = false;
  absl::Duration drain_timeout = absl::Seconds(20);
  absl::Duration worker_start_timeout = absl::Seconds(30);
  absl::Duration worker_timeout = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(75);
  absl::Duration request_timeout = absl::Seconds(30);
  // A request unanswered this long gets 504; zero: no deadline.
  absl::Duration request_deadline = absl::ZeroDuration();
  int64_t max_body_bytes = 1 << 20;
  int crash_loop_limit = 5;
  std::string config_dir;
  log::Level log_level = log::Level::kInfo;
  // One log line per request (method, path, route, status, duration).
  bool access_log = false;
  // A C++ app's worker whose event loop falls behind sheds requests, the
  // lowest --priority class first (overload/lag_shedder.h).
  bool shed_on_lag = true;

  // Lifecycle guards: workers recycled before memory or age takes the pod
  // down. The memory guard acts when the container's working set passes
  // this fraction of its memory limit; nullopt: off.
  std::optional<double> memory_guard = 0.8;
  int64_t max_worker_memory = 0;  // bytes per worker; 0 = no limit
  int64_t max_requests = 0;       // per worker; 0 = no limit
  int64_t max_requests_jitter = 0;
  absl::Duration max_worker_age = absl::ZeroDuration();  // zero = no limit
  absl::Duration max_worker_age_jitter = absl::ZeroDuration();

  // Only for `corral [flags] -- CMD`, whose workers are any command.
  // How a worker is told to stop (to its process group).
  int stop_signal = SIGTERM;
  // When a worker counts as ready; see EffectiveReadiness.
  Readiness ready = Readiness::kAuto;
  absl::Duration ready_after = absl::Seconds(1);
  // Run against a new config snapshot before any roll; exit 0 = valid.
  std::string config_check;

  // Only for the init shape (`corral -- CMD` without --listen), and for
  // corral invoked as tini or dumb-init.
  // Forward signals to the child's process group (tini -g).
  bool process_group = false;
  // With process_group: when the child exits, what it left in its group
  // gets SIGTERM (dumb-init's rule; tini -g leaves it alone).
  bool stop_group_at_exit = true;
  // The child's exit codes (0-255, 128+N for signal N) that corral exits 0
  // for (tini -e).
  std::set<int> success_exit_codes;
  // A signal corral receives is passed on as another; to 0: not at all
  // (dumb-init -r).
  std::map<int, int> signal_rewrites;
  // The signal corral gets when its parent exits, handled as if it had
  // been sent (tini -p); 0: none.
  int parent_death_signal = 0;
  // Each orphan reaped is a warning rather than a debug line (tini -w).
  bool warn_on_reap = false;
  // SIGTSTP, SIGTTIN and SIGTTOU, once passed on, stop corral too, so the
  // shell that started it sees a stopped job (dumb-init's rule).
  bool stop_on_terminal_stop_signals = false;
  // Once the child has started, corral's own working directory is /, so it
  // holds no mount busy (dumb-init's rule; the child keeps the one given).
  bool leave_working_directory = false;

  // Proxy mode: corral's own workers hold the client connections and
  // forward each request to the least busy copy of CMD, which listens on
  // its own $PORT.
  bool proxy = false;
  std::optional<int> proxy_workers;  // nullopt = auto
  // Per app process: the upper bound of the adaptive limit, or with
  // adaptive_concurrency off the cap itself (0 = none).
  int app_concurrency = 0;
  bool adaptive_concurrency = true;
  int max_queue = 1024;
  absl::Duration queue_timeout = absl::Seconds(10);
  // The queue's delay target and interval (overload/delay_target.h); for
  // a C++ app's worker, its event loop's (overload/lag_shedder.h).
  absl::Duration queue_target = absl::Milliseconds(50);
  absl::Duration queue_interval = absl::Seconds(1);
  // --priority: MATCH=CLASS rules (overload/priority.h), for both.
  std::string priority = "POST=high,PUT=high,PATCH=high,DELETE=high";
  absl::Duration upstream_timeout = absl::Seconds(60);
  // A tunnelled connection (WebSocket) is closed this long after its drain
  // begins, with close code 1001.
  absl::Duration websocket_drain = absl::Seconds(5);
  // Route templates that label the request metrics ("/products/{id}").
  std::vector<std::string> routes;
  // When set, each app process listens on a unix socket in this directory
  // (its path in $PORT) instead of a port on 127.0.0.1.
  std::string app_socket_dir;
};

// options.ready with kAuto resolved: kPort with --proxy, else kAlive.
Readiness EffectiveReadiness(const Options& options);

// Which flags a program takes: an app built on lib/, or `corral -- CMD`,
// which takes the command-mode flags too.
enum class FlagSet { kApp, kCommand };

// Which programs take a flag: all of them, `corral -- CMD` only, or proxy
// mode (`corral --listen=ADDR --proxy -- CMD`) only, or the init shape
// (`corral -- CMD`, no --listen) only.
enum class FlagScope { kAll, kCommand, kProxy, kInit };

// One row of the flag table that parsing, --help and the chart's check read.
struct FlagInfo {
  std::string name;  // without "--"
  std::string env;   // the environment variable that sets it too
  std::string help;  // as --help prints it
  FlagScope scope = FlagScope::kAll;
  std::string default_value;  // as --help prints it
};

// Every flag, in --help's order, with its default from `defaults`.
std::vector<FlagInfo> FlagTable(const Options& defaults = Options());

// What ParseOptions found: the options, or that --help or --version was
// asked for.
struct ParsedOptions {
  Options options;
  bool help = false;
  bool version = false;
  // The flags set by the command line or the environment, by name.
  std::set<std::string> given;
};

// Flags win over environment variables, which win over defaults. `env` maps
// variable names to values (the caller passes the real environment).
absl::StatusOr<ParsedOptions> ParseOptions(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    const Options& defaults = Options(), FlagSet set = FlagSet::kApp);

// `corral -- CMD`'s flags that need others: --proxy needs --listen; proxy
// mode's own flags and --ready=port need --listen and --proxy; the init
// shape's own flags refuse --listen; the lifecycle guards need --listen,
// and --max-requests needs --proxy.
absl::Status CheckCommandFlags(const ParsedOptions& parsed);

// The --help text: every flag with its variable, default and meaning.
std::string HelpText(const std::string& program, const Options& defaults,
                     FlagSet set = FlagSet::kApp);

// "TERM", "SIGTERM" or "15" -> 15.
absl::StatusOr<int> ParseSignal(const std::string& text);
// "TERM" for 15; the number for a signal without a name.
std::string SignalName(int sig);

// The --version line: the program and its version, then corral's, e.g.
// "corral-shop 0.1.0 (corral 0.1.0)".
std::string VersionText(const std::string& program, const std::string& version);

absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text);
std::string FormatEndpoint(const Endpoint& endpoint);

// "off" or a fraction above 0 and below 1 ("0.9").
absl::StatusOr<std::optional<double>> ParseMemoryGuard(const std::string& text);
// Bytes, with an optional K, M, G (powers of 1000) or Ki, Mi, Gi (of 1024)
// suffix, as in a Kubernetes quantity: "512Mi", "1G", "1048576".
absl::StatusOr<int64_t> ParseByteSize(const std::string& text);

// Accepts absl durations ("5s", "250ms", "1m30s") and bare seconds ("5").
absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text);

std::map<std::string, std::string> CurrentEnvironment();

}  // namespace corral

#endif  // CORRAL_OPTIONS_OPTIONS_H_
