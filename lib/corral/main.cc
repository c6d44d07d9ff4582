#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "corral/app.h"
#include "corral/healthcheck.h"
#include "log/log.h"
#include "master/master.h"
#include "options/options.h"
#include "worker/worker.h"

namespace corral {

int Main(int argc, char** argv, const App& app) {
  std::vector<std::string> all(argv, argv + argc);
  std::string program = app.name.empty() ? all[0] : app.name;
  std::map<std::string, std::string> env = CurrentEnvironment();

  if (all.size() >= 2 && all[1] == "healthcheck") {
    std::string url;
    if (all.size() >= 3) {
      url = all[2];
    } else {
      // The admin port from the same flags and environment the server reads.
      Options defaults = app.defaults;
      auto parsed = ParseOptions({}, env, defaults);
      uint16_t port =
          parsed.ok() ? parsed->options.admin.port : defaults.admin.port;
      url = absl::StrCat("http://127.0.0.1:", port, "/readyz");
    }
    return RunHealthcheck(url);
  }

  std::vector<std::string> args(all.begin() + 1, all.end());
  auto parsed = ParseOptions(args, env, app.defaults);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(HelpText(program, app.defaults).c_str(), stdout);
    return 0;
  }
  if (parsed->version) {
    std::fputs(VersionText(program, app.version).c_str(), stdout);
    return 0;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(parsed->options.log_level, &level);
  log::SetLevel(level);

  auto role = env.find(worker::kRoleEnv);
  if (role != env.end() && role->second == "worker") {
    auto worker_env = worker::ParseWorkerEnv(env);
    if (!worker_env.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(),
                   std::string(worker_env.status().message()).c_str());
      return 2;
    }
    return worker::RunWorker(app, parsed->options, *worker_env);
  }
  return master::RunMaster(app, parsed->options, all);
}

}  // namespace corral
