#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "corral/app.h"
#include "corral/healthcheck.h"
#include "init/dumb_init_args.h"
#include "init/init.h"
#include "init/personality.h"
#include "init/tini_args.h"
#include "log/log.h"
#include "master/master.h"
#include "options/options.h"
#include "pid1/pid1.h"
#include "pool/worker_env.h"
#include "proxy/proxy_app.h"
#include "worker/worker.h"

namespace corral {
namespace {

// What every corral program answers the same way: `healthcheck`, bad flags,
// --help and --version. Returns the exit code when one of them was asked
// for; otherwise fills `parsed` and sets the log level.
std::optional<int> ParseCommon(const std::vector<std::string>& args,
                               const std::string& program,
                               const std::string& version,
                               const Options& defaults, FlagSet set,
                               ParsedOptions* parsed) {
  std::map<std::string, std::string> env = CurrentEnvironment();
  if (!args.empty() && args[0] == "healthcheck") {
    std::string url;
    if (args.size() >= 2) {
      url = args[1];
    } else {
      // The admin port from the same flags and environment the server reads.
      auto p = ParseOptions({}, env, defaults, set);
      uint16_t port = p.ok() ? p->options.admin.port : defaults.admin.port;
      url = absl::StrCat("http://127.0.0.1:", port, "/readyz");
    }
    return RunHealthcheck(url);
  }
  auto p = ParseOptions(args, env, defaults, set);
  if (!p.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 std::string(p.status().message()).c_str());
    return 2;
  }
  if (p->help) {
    std::fputs(HelpText(program, defaults, set).c_str(), stdout);
    return 0;
  }
  if (p->version) {
    std::fputs(VersionText(program, version).c_str(), stdout);
    return 0;
  }
  log::SetLevel(p->options.log_level);
  *parsed = std::move(*p);
  return std::nullopt;
}

// corral invoked as tini or dumb-init: that program's command line, then
// the init shape.
int RunAs(const init::Invocation& invocation,
          const pid1::InheritedSignals& inherited) {
  std::fputs(invocation.out.c_str(), stdout);
  std::fputs(invocation.err.c_str(), stderr);
  if (invocation.exit_code) return *invocation.exit_code;
  log::SetLevel(invocation.parsed.options.log_level);
  return init::RunInit(invocation.parsed, invocation.command, inherited);
}

}  // namespace

int Main(int argc, char** argv, const App& app) {
  std::vector<std::string> all(argv, argv + argc);
  std::string program = app.name.empty() ? all[0] : app.name;
  ParsedOptions parsed;
  if (auto code =
          ParseCommon({all.begin() + 1, all.end()}, program, app.version,
                      app.defaults, FlagSet::kApp, &parsed)) {
    return *code;
  }
  std::map<std::string, std::string> env = CurrentEnvironment();
  auto role = env.find(pool::kRoleEnv);
  if (role != env.end() && role->second == "worker") {
    auto worker_env = pool::ParseWorkerEnv(env);
    if (!worker_env.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(),
                   std::string(worker_env.status().message()).c_str());
      return 2;
    }
    return worker::RunWorker(app, parsed.options, *worker_env);
  }
  return master::RunMaster(app, parsed.options, all);
}

int CommandMain(int argc, char** argv) {
  // Before anything else: a signal sent while corral starts waits for the
  // init loop instead of ending corral, or being dropped when it is PID 1.
  const pid1::InheritedSignals inherited = pid1::BlockAllSignals();
  std::vector<std::string> all(argv, argv + argc);
  switch (init::PersonalityOf(all.empty() ? "" : all[0])) {
    case init::Personality::kTini:
      return RunAs(init::ParseTiniArgs(all, CurrentEnvironment()), inherited);
    case init::Personality::kDumbInit:
      return RunAs(init::ParseDumbInitArgs(all, CurrentEnvironment()),
                   inherited);
    case init::Personality::kCorral:
      break;
  }
  const std::string program = "corral";
  auto dashes = std::find(all.begin() + 1, all.end(), "--");
  std::vector<std::string> flags(all.begin() + 1, dashes);
  std::vector<std::string> command;
  if (dashes != all.end()) command.assign(dashes + 1, all.end());
  if (!flags.empty() && flags[0] == "healthcheck") {
    pid1::RestoreSignals(inherited);  // a probe's timeout must end it
  }
  ParsedOptions parsed;
  if (auto code = ParseCommon(flags, program, CORRAL_VERSION, Options(),
                              FlagSet::kCommand, &parsed)) {
    return *code;
  }
  if (command.empty()) {
    std::fprintf(stderr,
                 "%s: no command to run; usage: %s [flags] -- CMD [ARGS...] "
                 "(see --help)\n",
                 program.c_str(), program.c_str());
    return 2;
  }
  std::map<std::string, std::string> env = CurrentEnvironment();
  if (auto role = env.find(pool::kRoleEnv);
      role != env.end() && role->second == "worker") {
    // A proxy worker: the master started this binary again.
    auto worker_env = pool::ParseWorkerEnv(env);
    if (!worker_env.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(),
                   std::string(worker_env.status().message()).c_str());
      return 2;
    }
    static const App proxy_app = proxy::ProxyApp();
    pid1::RestoreSignals(inherited);  // workers install their own handling
    return worker::RunWorker(proxy_app, parsed.options, *worker_env);
  }
  if (absl::Status s = CheckCommandFlags(parsed); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 std::string(s.message()).c_str());
    return 2;
  }
  if (parsed.given.count("listen") == 0) {
    return init::RunInit(parsed, command, inherited);
  }
  pid1::RestoreSignals(inherited);  // the master installs its own handling
  return master::RunCommandMaster(parsed.options, all, command);
}

}  // namespace corral
