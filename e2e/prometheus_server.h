// A real Prometheus server (Debian's `prometheus` binary) scraping one
// corral admin port every second, on loopback, with its own data directory.
#ifndef CORRAL_E2E_PROMETHEUS_SERVER_H_
#define CORRAL_E2E_PROMETHEUS_SERVER_H_

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "harness.h"

namespace corral::e2e {

class PrometheusServer {
 public:
  explicit PrometheusServer(uint16_t target_port)
      : dir_(std::filesystem::temp_directory_path() /
             ("corral-prom-" + std::to_string(getpid()) + "-" +
              std::to_string(target_port))),
        port_(FreePort()) {
    std::filesystem::create_directories(dir_ + "/data");
    std::ofstream(dir_ + "/prom.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           "scrape_configs:\n  - job_name: corral\n    static_configs:\n"
           "      - targets: ['127.0.0.1:"
        << target_port << "']\n";
    pid_ = fork();
    if (pid_ == 0) {
      std::string log = dir_ + "/prometheus.log";
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "a", stderr);
      execlp(
          "prometheus", "prometheus",
          ("--config.file=" + dir_ + "/prom.yml").c_str(),
          ("--web.listen-address=127.0.0.1:" + std::to_string(port_)).c_str(),
          ("--storage.tsdb.path=" + dir_ + "/data").c_str(), nullptr);
      _exit(127);
    }
  }

  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // The "result" array of an instant query, or nullopt when Prometheus does
  // not answer (yet) or rejects the query (error in *error).
  std::optional<nlohmann::json> Query(const std::string& promql,
                                      std::string* error = nullptr) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1, 0);
    auto res = c.Get("/api/v1/query", httplib::Params{{"query", promql}},
                     httplib::Headers{});
    if (!res) return std::nullopt;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || j.is_discarded() || j["status"] != "success") {
      if (error != nullptr) *error = res->body;
      return std::nullopt;
    }
    return j["data"]["result"];
  }

  std::string Log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str().substr(0, 3000);
  }

 private:
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_PROMETHEUS_SERVER_H_
