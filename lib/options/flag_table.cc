#include "options/flag_table.h"

#include <sys/un.h>

#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "overload/priority.h"

namespace corral {
namespace {

// "--name" alone, or "--name=true|false".
Flag BoolFlag(const char* name, const char* env, const char* help,
              bool Options::*field, FlagScope scope = FlagScope::kAll) {
  return Flag{name,
              env,
              help,
              [name, field](const std::string& v, Options& o) -> absl::Status {
                if (v != "true" && v != "false") {
                  return absl::InvalidArgumentError(absl::StrCat(
                      "--", name, " takes true or false, got \"", v, "\""));
                }
                o.*field = v == "true";
                return absl::OkStatus();
              },
              [field](const Options& o) {
                return std::string(o.*field ? "true" : "false");
              },
              scope,
              true};
}

// "auto" (unset: the caller picks from the CPUs) or a number from 1 to max.
Flag AutoCountFlag(const char* name, const char* env, const char* help,
                   std::optional<int> Options::*field, int max) {
  return Flag{
      name, env, help,
      [name, field, max](const std::string& v, Options& o) -> absl::Status {
        if (v == "auto") {
          (o.*field).reset();
          return absl::OkStatus();
        }
        int n = 0;
        if (!absl::SimpleAtoi(v, &n) || n < 1 || n > max) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " must be auto or a number from 1 to ",
                           max, ", got \"", v, "\""));
        }
        o.*field = n;
        return absl::OkStatus();
      },
      [field](const Options& o) {
        return o.*field ? std::to_string(*(o.*field)) : std::string("auto");
      }};
}

// A whole number from `min` up (an int or an int64_t field).
template <typename T>
Flag CountFlag(const char* name, const char* env, const char* help,
               T Options::*field, T min) {
  return Flag{
      name, env, help,
      [name, field, min](const std::string& v, Options& o) -> absl::Status {
        T n = 0;
        if (!absl::SimpleAtoi(v, &n) || n < min) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " must be a number from ", min,
                           " up, got \"", v, "\""));
        }
        o.*field = n;
        return absl::OkStatus();
      },
      [field](const Options& o) { return std::to_string(o.*field); }};
}

// The longest --app-socket-dir whose sockets' paths fit in sockaddr_un's
// 108 bytes with their NUL: "DIR/corral-XXXXXX/app-ID.sock", the master's
// own directory in DIR and an ID of up to 10 digits.
constexpr size_t kMaxAppSocketDir =
    sizeof(sockaddr_un{}.sun_path) -
    sizeof("/corral-XXXXXX/app-4294967295.sock");

Flag CommandFlag(Flag f) {
  f.scope = FlagScope::kCommand;
  return f;
}

// The init shape's own: --help says so, and CheckCommandFlags refuses them
// with --listen.
Flag InitFlag(Flag f) {
  f.scope = FlagScope::kInit;
  return f;
}

// "143,130": each a code from 0 to 255.
absl::Status SetSuccessExitCodes(const std::string& v, Options& o) {
  std::set<int> codes;
  for (absl::string_view t : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    t = absl::StripAsciiWhitespace(t);
    int code = 0;
    if (!absl::SimpleAtoi(t, &code) || code < 0 || code > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--success-exit-codes: \"", t, "\" is not an exit code (0-255)"));
    }
    codes.insert(code);
  }
  o.success_exit_codes = std::move(codes);
  return absl::OkStatus();
}

// "TERM:QUIT,WINCH:0": signals by name or number; TO 0 drops FROM.
absl::Status SetSignalRewrites(const std::string& v, Options& o) {
  std::map<int, int> rewrites;
  for (absl::string_view t : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    t = absl::StripAsciiWhitespace(t);
    std::pair<std::string, std::string> pair =
        absl::StrSplit(t, absl::MaxSplits(':', 1));
    auto from = ParseSignal(pair.first);
    absl::StatusOr<int> to =
        pair.second == "0" ? absl::StatusOr<int>(0) : ParseSignal(pair.second);
    if (t.find(':') == absl::string_view::npos || !from.ok() || !to.ok() ||
        *from == SIGKILL || *from == SIGSTOP || *from == SIGCHLD) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rewrite-signal: \"", t,
          "\" is not FROM:TO (signals by name or number, FROM one corral can "
          "receive and not CHLD, TO 0 to drop it; example: TERM:QUIT)"));
    }
    rewrites[*from] = *to;
  }
  o.signal_rewrites = std::move(rewrites);
  return absl::OkStatus();
}

std::string FormatSignalRewrites(const Options& o) {
  if (o.signal_rewrites.empty()) return "\"\"";
  std::vector<std::string> pairs;
  for (const auto& [from, to] : o.signal_rewrites) {
    pairs.push_back(
        absl::StrCat(SignalName(from), ":", to == 0 ? "0" : SignalName(to)));
  }
  return absl::StrJoin(pairs, ",");
}

// Proxy mode's own: --help says "with --proxy", and CheckCommandFlags
// refuses them without --listen and --proxy.
Flag ProxyFlag(Flag f) {
  f.scope = FlagScope::kProxy;
  return f;
}

Flag DurationFlag(const char* name, const char* env, const char* help,
                  absl::Duration Options::*field) {
  return Flag{
      name, env, help,
      [field](const std::string& v, Options& o) -> absl::Status {
        auto d = ParseDurationFlag(v);
        if (!d.ok()) return d.status();
        o.*field = *d;
        return absl::OkStatus();
      },
      [field](const Options& o) { return absl::FormatDuration(o.*field); }};
}

Flag EndpointFlag(const char* name, const char* env, const char* help,
                  Endpoint Options::*field) {
  return Flag{name, env, help,
              [field](const std::string& v, Options& o) -> absl::Status {
                auto e = ParseEndpoint(v);
                if (!e.ok()) return e.status();
                o.*field = *e;
                return absl::OkStatus();
              },
              [field](const Options& o) { return FormatEndpoint(o.*field); }};
}

}  // namespace

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      EndpointFlag("listen", "CORRAL_LISTEN",
                   "address:port the app traffic is served on",
                   &Options::listen),
      EndpointFlag("admin", "CORRAL_ADMIN",
                   "address:port of the admin server (probes, metrics, status)",
                   &Options::admin),
      AutoCountFlag("workers", "CORRAL_WORKERS",
                    "worker processes: auto (the CPUs the pod may use) or a "
                    "number",
                    &Options::workers, 1024),
      DurationFlag("drain-delay", "CORRAL_DRAIN_DELAY",
                   "after SIGTERM, keep serving this long while the endpoints "
                   "catch up",
                   &Options::drain_delay),
      {"readiness-at-term", "CORRAL_READINESS_AT_TERM",
       "at SIGTERM, readiness: serve (stays up through --drain-delay, so "
       "kube-proxy may still fall back to this terminating pod) or fail (503 "
       "at once, for load balancers that only watch the probe)",
       [](const std::string& v, Options& o) -> absl::Status {
         if (v != "serve" && v != "fail") {
           return absl::InvalidArgumentError(absl::StrCat(
               "--readiness-at-term must be serve or fail, got \"", v, "\""));
         }
         o.readiness_fails_at_term = v == "fail";
         return absl::OkStatus();
       },
       [](const Options& o) {
         return std::string(o.readiness_fails_at_term ? "fail" : "serve");
       }},
      DurationFlag("drain-timeout", "CORRAL_DRAIN_TIMEOUT",
                   "after the delay, how long in-flight requests may take "
                   "before their worker is killed",
                   &Options::drain_timeout),
      DurationFlag("worker-start-timeout", "CORRAL_WORKER_START_TIMEOUT",
                   "how long a new worker may take to report ready",
                   &Options::worker_start_timeout),
      DurationFlag("worker-timeout", "CORRAL_WORKER_TIMEOUT",
                   "a worker whose event loop makes no progress this long is "
                   "killed and replaced",
                   &Options::worker_timeout),
      DurationFlag("keepalive-timeout", "CORRAL_KEEPALIVE_TIMEOUT",
                   "idle keep-alive connections are closed after this long "
                   "(keep it above your load balancer's idle timeout)",
                   &Options::keepalive_timeout),
      DurationFlag("request-timeout", "CORRAL_REQUEST_TIMEOUT",
                   "a client must send a whole request within this long "
                   "of its first byte (slow clients get 408)",
                   &Options::request_timeout),
      DurationFlag("request-deadline", "CORRAL_REQUEST_DEADLINE",
                   "a request still unanswered this long after its first "
                   "byte gets 504 (or, its answer begun, a closed "
                   "connection), and the C++ app's worker or the app "
                   "process that held it is recycled; 0s: none. In "
                   "corral, --proxy only",
                   &Options::request_deadline),
      CountFlag<int64_t>("max-body", "CORRAL_MAX_BODY",
                         "largest request body in bytes; larger ones get 413",
                         &Options::max_body_bytes, 0),
      CountFlag("crash-loop-limit", "CORRAL_CRASH_LOOP_LIMIT",
                "a worker that fails this many times in a row without staying "
                "up fails /livez, so the kubelet restarts the container",
                &Options::crash_loop_limit, 1),
      Flag{"config-dir", "CORRAL_CONFIG_DIR",
           "directory holding the app's config (a mounted ConfigMap); empty "
           "means the built-in defaults",
           [](const std::string& v, Options& o) -> absl::Status {
             o.config_dir = v;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return o.config_dir.empty() ? std::string("\"\"") : o.config_dir;
           }},
      Flag{"log-level", "CORRAL_LOG_LEVEL", "debug, info, warn or error",
           [](const std::string& v, Options& o) -> absl::Status {
             if (!log::ParseLevel(v, &o.log_level)) {
               return absl::InvalidArgumentError(absl::StrCat(
                   "--log-level must be debug, info, warn or error, got \"", v,
                   "\""));
             }
             return absl::OkStatus();
           },
           [](const Options& o) {
             return std::string(log::LevelName(o.log_level));
           }},
      BoolFlag("access-log", "CORRAL_ACCESS_LOG",
               "one JSON log line per request: method, path, route, status, "
               "duration (off: a busy store writes a lot)",
               &Options::access_log),
      Flag{"memory-guard", "CORRAL_MEMORY_GUARD",
           "when the container's working set passes this fraction of its "
           "memory limit (cgroup v1 or v2), the worker holding the most "
           "memory is recycled before the kernel's OOM killer acts; off to "
           "turn it off (no limit: nothing to guard)",
           [](const std::string& v, Options& o) -> absl::Status {
             auto f = ParseMemoryGuard(v);
             if (!f.ok()) return f.status();
             o.memory_guard = *f;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return o.memory_guard ? absl::StrCat(*o.memory_guard)
                                   : std::string("off");
           }},
      Flag{
          "max-worker-memory", "CORRAL_MAX_WORKER_MEMORY",
          "a worker whose private resident memory (its process tree's) "
          "passes this (512Mi, 1G) is recycled, its replacement first "
          "when the memory limit has room for both; 0 = no limit",
          [](const std::string& v, Options& o) -> absl::Status {
            auto n = ParseByteSize(v);
            if (!n.ok()) return n.status();
            o.max_worker_memory = *n;
            return absl::OkStatus();
          },
          [](const Options& o) { return std::to_string(o.max_worker_memory); }},
      CountFlag<int64_t>("max-requests", "CORRAL_MAX_REQUESTS",
                         "a worker (in proxy mode, an app process) that has "
                         "served this many requests is recycled, its "
                         "replacement first when memory allows; 0 = no "
                         "limit (not with a "
                         "command that takes the socket itself: corral "
                         "cannot count its requests)",
                         &Options::max_requests, 0),
      CountFlag<int64_t>("max-requests-jitter", "CORRAL_MAX_REQUESTS_JITTER",
                         "each worker's --max-requests is raised by a random "
                         "number from 0 to this, so workers do not all come "
                         "due at once",
                         &Options::max_requests_jitter, 0),
      DurationFlag("max-worker-age", "CORRAL_MAX_WORKER_AGE",
                   "a worker that has run this long is recycled, its "
                   "replacement first when memory allows; 0 = no limit",
                   &Options::max_worker_age),
      DurationFlag("max-worker-age-jitter", "CORRAL_MAX_WORKER_AGE_JITTER",
                   "each worker's --max-worker-age is raised by a random "
                   "share of this",
                   &Options::max_worker_age_jitter),
      CommandFlag(
          {"stop-signal", "CORRAL_STOP_SIGNAL",
           "the signal a worker's process group gets to drain and exit "
           "(QUIT for servers that want it); SIGKILL follows at the drain "
           "timeout",
           [](const std::string& v, Options& o) -> absl::Status {
             auto sig = ParseSignal(v);
             if (!sig.ok()) return sig.status();
             o.stop_signal = *sig;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return absl::StrCat("SIG", sigabbrev_np(o.stop_signal));
           }}),
      CommandFlag(
          {"ready", "CORRAL_READY",
           "when a worker is ready: notify (READY=1 on $NOTIFY_SOCKET), pipe "
           "(a line on descriptor $CORRAL_READY_FD), alive (running for "
           "--ready-after), port (accepts a connection on its $PORT; "
           "--proxy only) or auto (port with --proxy, else alive)",
           [](const std::string& v, Options& o) -> absl::Status {
             absl::StatusOr<Readiness> r = ParseReadiness(v);
             if (!r.ok()) return r.status();
             o.ready = *r;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return std::string(ReadinessName(o.ready));
           }}),
      CommandFlag(DurationFlag("ready-after", "CORRAL_READY_AFTER",
                               "with --ready=alive: how long a worker must "
                               "run before it counts as ready",
                               &Options::ready_after)),
      CommandFlag({"config-check", "CORRAL_CONFIG_CHECK",
                   "a shell command run against each new config snapshot "
                   "($CORRAL_CONFIG_DIR) before any roll; exit 0 = valid, its "
                   "output goes into the rejection",
                   [](const std::string& v, Options& o) -> absl::Status {
                     o.config_check = v;
                     return absl::OkStatus();
                   },
                   [](const Options& o) {
                     return o.config_check.empty() ? std::string("\"\"")
                                                   : o.config_check;
                   }}),
      BoolFlag("process-group", "CORRAL_PROCESS_GROUP",
               "pass signals on to the child's whole process group, like "
               "tini -g; when the child exits, the rest of its group gets "
               "SIGTERM, as under dumb-init",
               &Options::process_group, FlagScope::kInit),
      InitFlag({"success-exit-codes", "CORRAL_SUCCESS_EXIT_CODES",
                "comma-separated exit codes of the child (0-255; 128+N when "
                "signal N ended it) that corral exits 0 for, like tini -e "
                "(143: a child ended by SIGTERM)",
                SetSuccessExitCodes,
                [](const Options& o) {
                  return o.success_exit_codes.empty()
                             ? std::string("\"\"")
                             : absl::StrJoin(o.success_exit_codes, ",");
                }}),
      InitFlag({"rewrite-signal", "CORRAL_REWRITE_SIGNAL",
                "comma-separated FROM:TO pairs: a signal FROM that corral "
                "gets is passed on as TO, or not at all when TO is 0, like "
                "dumb-init -r (TERM:QUIT,WINCH:0); a rewritten TERM or INT "
                "still starts the drain",
                SetSignalRewrites, FormatSignalRewrites}),
      InitFlag({"parent-death-signal", "CORRAL_PARENT_DEATH_SIGNAL",
                "the signal corral gets when its parent process exits, "
                "handled as if it had been sent (TERM drains, others are "
                "passed on), like tini -p; none: no signal",
                [](const std::string& v, Options& o) -> absl::Status {
                  if (v == "none") {
                    o.parent_death_signal = 0;
                    return absl::OkStatus();
                  }
                  auto sig = ParseSignal(v);
                  if (!sig.ok()) return sig.status();
                  o.parent_death_signal = *sig;
                  return absl::OkStatus();
                },
                [](const Options& o) {
                  return o.parent_death_signal == 0
                             ? std::string("none")
                             : absl::StrCat("SIG",
                                            SignalName(o.parent_death_signal));
                }}),
      BoolFlag("proxy", "CORRAL_PROXY",
               "proxy mode: corral's workers hold the client connections "
               "and forward each request to the least busy copy of CMD, "
               "which listens on 127.0.0.1:$PORT (or the unix socket "
               "$PORT, with --app-socket-dir)",
               &Options::proxy, FlagScope::kCommand),
      ProxyFlag(
          AutoCountFlag("proxy-workers", "CORRAL_PROXY_WORKERS",
                        "corral's own proxy processes, auto (one per CPU the "
                        "pod may use) or a number",
                        &Options::proxy_workers, 64)),
      ProxyFlag(CountFlag("app-concurrency", "CORRAL_APP_CONCURRENCY",
                          "most requests in flight per app process: the "
                          "upper bound of the adaptive limit (0 = 1000), or "
                          "with --adaptive-concurrency=false the cap itself "
                          "(0 = no cap; 1 for apps that cannot interleave)",
                          &Options::app_concurrency, 0)),
      BoolFlag("adaptive-concurrency", "CORRAL_ADAPTIVE_CONCURRENCY",
               "each app process's limits on requests in flight, one per "
               "--priority class, follow their latencies (a gradient on a "
               "re-measured minimum latency), their sum up to "
               "--app-concurrency; false: --app-concurrency alone",
               &Options::adaptive_concurrency, FlagScope::kProxy),
      ProxyFlag(CountFlag("max-queue", "CORRAL_MAX_QUEUE",
                          "requests that may wait for a free "
                          "app process, over all proxy workers; more get "
                          "503 with Retry-After (or push out a waiting one "
                          "of a lower --priority class)",
                          &Options::max_queue, 0)),
      ProxyFlag(DurationFlag("queue-timeout", "CORRAL_QUEUE_TIMEOUT",
                             "a request that waited this long "
                             "for a free app process gets 503 (the bound "
                             "while no app process takes requests)",
                             &Options::queue_timeout)),
      BoolFlag("shed-on-lag", "CORRAL_SHED_ON_LAG",
               "a C++ app's worker whose event loop has lagged past "
               "--queue-target for a whole --queue-interval answers 503 "
               "with Retry-After, while the loop is late, to the lowest "
               "--priority class arriving, instead of letting every "
               "request wait; false: never (C++ apps only; proxy mode "
               "sheds from its queue)",
               &Options::shed_on_lag),
      DurationFlag(
          "queue-target", "CORRAL_QUEUE_TARGET",
          "the delay target. Proxy mode: once the queue's oldest request "
          "has waited longer for a whole --queue-interval, requests are "
          "served newest first and those that wait past the target get "
          "503, until none has for a whole interval. A C++ app: the "
          "event-loop lag "
          "past which --shed-on-lag sheds",
          &Options::queue_target),
      DurationFlag("queue-interval", "CORRAL_QUEUE_INTERVAL",
                   "how long the proxy's queue, or a C++ app's event-loop "
                   "lag, may stand past --queue-target before requests are "
                   "shed (a burst's allowance); also how long it must stay "
                   "below before shedding stops",
                   &Options::queue_interval),
      Flag{"priority", "CORRAL_PRIORITY",
           "request classes, MATCH=CLASS,...: MATCH a method (POST), a "
           "route template (/products/{id}) or both (POST /checkout), "
           "CLASS high, normal or low; the first match decides, others are "
           "normal. Higher classes wait ahead (proxy mode) and are shed "
           "last (proxy mode and --shed-on-lag)",
           [](const std::string& v, Options& o) -> absl::Status {
             auto rules = overload::PriorityRules::Parse(v);
             if (!rules.ok()) return rules.status();
             o.priority = v;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return o.priority.empty() ? std::string("\"\"") : o.priority;
           }},
      ProxyFlag(DurationFlag("upstream-timeout", "CORRAL_UPSTREAM_TIMEOUT",
                             "an app process silent this long "
                             "on a request (before or within its answer) "
                             "gives 504, or a closed connection mid-answer",
                             &Options::upstream_timeout)),
      ProxyFlag(DurationFlag(
          "websocket-drain", "CORRAL_WEBSOCKET_DRAIN",
          "a WebSocket (or other upgraded connection) is closed "
          "this long after its drain begins (pod shutdown, or its app process "
          "being replaced), with close code 1001; keep it below "
          "--drain-timeout",
          &Options::websocket_drain)),
      ProxyFlag(
          {"routes", "CORRAL_ROUTES",
           "comma-separated route templates (/products/{id}) "
           "that label the request metrics; other requests are route none",
           [](const std::string& v, Options& o) -> absl::Status {
             o.routes.clear();
             for (absl::string_view t :
                  absl::StrSplit(v, ',', absl::SkipEmpty())) {
               t = absl::StripAsciiWhitespace(t);
               if (t.empty() || t.front() != '/') {
                 return absl::InvalidArgumentError(absl::StrCat(
                     "--routes: \"", t, "\" is not a path template"));
               }
               o.routes.emplace_back(t);
             }
             return absl::OkStatus();
           },
           [](const Options& o) {
             return o.routes.empty() ? std::string("\"\"")
                                     : absl::StrJoin(o.routes, ",");
           }}),
      ProxyFlag(
          {"app-socket-dir", "CORRAL_APP_SOCKET_DIR",
           "each app process listens on a unix socket, its path "
           "in $PORT, in a directory corral makes in this one (instead of a "
           "port on 127.0.0.1)",
           [](const std::string& v, Options& o) -> absl::Status {
             std::string dir = v;
             while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
             if (dir.empty() || dir.front() != '/') {
               return absl::InvalidArgumentError(absl::StrCat(
                   "--app-socket-dir: \"", v, "\" is not an absolute path"));
             }
             if (dir.size() > kMaxAppSocketDir) {
               return absl::InvalidArgumentError(
                   absl::StrCat("--app-socket-dir: \"", v,
                                "\" is too long for a unix "
                                "socket's path (at most ",
                                kMaxAppSocketDir, " characters)"));
             }
             o.app_socket_dir = dir;
             return absl::OkStatus();
           },
           [](const Options& o) {
             return o.app_socket_dir.empty() ? std::string("\"\"")
                                             : o.app_socket_dir;
           }}),
  };
  return flags;
}

}  // namespace corral
