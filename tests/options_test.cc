#include "options/options.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <set>

namespace corral {
namespace {

TEST(OptionsTest, Defaults) {
  auto p = ParseOptions({}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.listen.port, 8080);
  EXPECT_EQ(p->options.admin.port, 9901);
  EXPECT_FALSE(p->options.workers.has_value());
  EXPECT_EQ(p->options.drain_delay, absl::Seconds(5));
  EXPECT_EQ(p->options.drain_timeout, absl::Seconds(20));
  EXPECT_FALSE(p->help);
}

TEST(OptionsTest, FlagsBothForms) {
  auto p = ParseOptions(
      {"--workers=3", "--listen", "127.0.0.1:9000", "--drain-delay=250ms"}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.workers, 3);
  EXPECT_EQ(p->options.listen.host, "127.0.0.1");
  EXPECT_EQ(p->options.listen.port, 9000);
  EXPECT_EQ(p->options.drain_delay, absl::Milliseconds(250));
}

TEST(OptionsTest, EnvironmentAndFlagPrecedence) {
  auto p = ParseOptions({"--workers=4"}, {{"CORRAL_WORKERS", "2"},
                                          {"CORRAL_ADMIN", ":9999"},
                                          {"CORRAL_DRAIN_TIMEOUT", "7"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.workers, 4);  // the flag wins
  EXPECT_EQ(p->options.admin.port, 9999);
  EXPECT_EQ(p->options.admin.host, "0.0.0.0");
  EXPECT_EQ(p->options.drain_timeout, absl::Seconds(7));
}

TEST(OptionsTest, AutoWorkers) {
  auto p = ParseOptions({"--workers=auto"}, {{"CORRAL_WORKERS", "2"}});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->options.workers.has_value());
}

TEST(OptionsTest, ClearErrors) {
  auto bad_workers = ParseOptions({"--workers=zero"}, {});
  ASSERT_FALSE(bad_workers.ok());
  EXPECT_NE(bad_workers.status().message().find("--workers"),
            std::string::npos);

  auto unknown = ParseOptions({"--wrokers=2"}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown flag --wrokers"),
            std::string::npos);

  auto env = ParseOptions({}, {{"CORRAL_DRAIN_DELAY", "soon"}});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("CORRAL_DRAIN_DELAY"),
            std::string::npos);

  EXPECT_FALSE(ParseOptions({"--listen=nowhere"}, {}).ok());
  EXPECT_FALSE(ParseOptions({"--listen=1.2.3.4:70000"}, {}).ok());
  EXPECT_FALSE(ParseOptions({"--admin"}, {}).ok());
  EXPECT_FALSE(ParseOptions({"stray"}, {}).ok());
}

TEST(OptionsTest, Help) {
  auto p = ParseOptions({"--help"}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->help);
  std::string text = HelpText("corral-shop", Options());
  for (const char* s : {"--listen", "CORRAL_LISTEN", "0.0.0.0:8080", "--admin",
                        "0.0.0.0:9901", "--workers", "auto", "--drain-delay",
                        "5s", "--drain-timeout", "20s", "healthcheck"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
}

TEST(OptionsTest, VersionIsAskedForAndNamesProgramAppAndCorral) {
  auto p = ParseOptions({"--version"}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->version);
  EXPECT_FALSE(p->help);
  EXPECT_FALSE(ParseOptions({}, {})->version);
  // Other flags may come along; they are still checked.
  EXPECT_TRUE(ParseOptions({"--workers=2", "--version"}, {})->version);
  EXPECT_FALSE(ParseOptions({"--version", "--workers=zero"}, {}).ok());

  EXPECT_EQ(VersionText("corral-shop", "1.2.3"),
            std::string("corral-shop 1.2.3 (corral ") + CORRAL_VERSION + ")\n");
  EXPECT_NE(HelpText("corral-shop", Options()).find("--version"),
            std::string::npos);
}

TEST(OptionsTest, Ipv6Endpoint) {
  auto e = ParseEndpoint("[::1]:8080");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(FormatEndpoint(*e), "[::1]:8080");
}

}  // namespace
}  // namespace corral

namespace corral {
namespace {

TEST(OptionsTest, CommandFlagsAreOnlyForTheCorralBinary) {
  EXPECT_FALSE(ParseOptions({"--stop-signal=QUIT"}, {}).ok())
      << "an app built on lib/ has no command to stop";
  auto p = ParseOptions(
      {"--stop-signal=QUIT", "--ready=notify", "--ready-after=250ms",
       "--process-group", "--listen=127.0.0.1:8080"},
      {}, Options(), FlagSet::kCommand);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.stop_signal, SIGQUIT);
  EXPECT_EQ(p->options.ready, Readiness::kNotify);
  EXPECT_EQ(p->options.ready_after, absl::Milliseconds(250));
  EXPECT_TRUE(p->options.process_group);
  EXPECT_EQ(p->given,
            (std::set<std::string>{"stop-signal", "ready", "ready-after",
                                   "process-group", "listen"}));
  EXPECT_FALSE(
      ParseOptions({"--ready=sometimes"}, {}, Options(), FlagSet::kCommand)
          .ok());
  auto env = ParseOptions({}, {{"CORRAL_LISTEN", "0.0.0.0:9"}}, Options(),
                          FlagSet::kCommand);
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->given.count("listen")) << "the environment counts too";
  EXPECT_NE(HelpText("corral", Options(), FlagSet::kCommand).find("SIGHUP"),
            std::string::npos);
  EXPECT_EQ(HelpText("corral-shop", Options()).find("--stop-signal"),
            std::string::npos);
}

TEST(OptionsTest, ReadinessParsesEveryModeAndNamesItBack) {
  for (Readiness r : {Readiness::kAuto, Readiness::kNotify, Readiness::kPipe,
                      Readiness::kAlive, Readiness::kPort}) {
    auto parsed = ParseReadiness(ReadinessName(r));
    ASSERT_TRUE(parsed.ok()) << ReadinessName(r);
    EXPECT_EQ(*parsed, r);
  }
  auto bad = ParseReadiness("soon");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("notify, pipe, alive, port or auto"),
            std::string::npos);
  EXPECT_FALSE(ParseReadiness("").ok());
  EXPECT_FALSE(ParseReadiness("Port").ok());
}

TEST(OptionsTest, AutoReadinessIsPortWithTheProxyAndAliveWithout) {
  Options o;
  EXPECT_EQ(EffectiveReadiness(o), Readiness::kAlive);
  o.proxy = true;
  EXPECT_EQ(EffectiveReadiness(o), Readiness::kPort);
  o.ready = Readiness::kPipe;
  EXPECT_EQ(EffectiveReadiness(o), Readiness::kPipe);
}

TEST(OptionsTest, LogLevelIsTyped) {
  auto p = ParseOptions({"--log-level=warn"}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.log_level, log::Level::kWarn);
  EXPECT_EQ(ParseOptions({}, {})->options.log_level, log::Level::kInfo);
  EXPECT_FALSE(ParseOptions({"--log-level=loud"}, {}).ok());
}

TEST(OptionsTest, ByteAndCountFlagsRefuseWhatIsNotACount) {
  auto p = ParseOptions({"--max-body=5000000000", "--crash-loop-limit=1"}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.max_body_bytes, int64_t{5000000000});
  EXPECT_EQ(p->options.crash_loop_limit, 1);
  EXPECT_TRUE(ParseOptions({"--max-body=0"}, {}).ok());
  for (const char* bad : {"--max-body=-1", "--max-body=1MB",
                          "--crash-loop-limit=0", "--crash-loop-limit=x"}) {
    auto r = ParseOptions({bad}, {});
    EXPECT_FALSE(r.ok()) << bad;
  }
}

// Proxy mode's own flags, --proxy and --ready=port, in the shapes that do
// not take them.
TEST(OptionsTest, ProxyOnlyFlagsNeedListenAndProxy) {
  auto check = [](std::vector<std::string> args) {
    auto p = ParseOptions(args, {}, Options(), FlagSet::kCommand);
    EXPECT_TRUE(p.ok()) << p.status();
    return CheckCommandFlags(*p);
  };
  EXPECT_TRUE(check({}).ok());
  EXPECT_TRUE(check({"--listen=:8080"}).ok());
  EXPECT_TRUE(check({"--listen=:8080", "--proxy", "--max-queue=5"}).ok());
  EXPECT_EQ(check({"--proxy"}).message(),
            "--proxy needs --listen (see --help)");
  EXPECT_EQ(check({"--listen=:8080", "--app-concurrency=1"}).message(),
            "--app-concurrency needs --listen and --proxy (see --help)");
  EXPECT_FALSE(check({"--listen=:8080", "--ready=port"}).ok());
  EXPECT_TRUE(check({"--listen=:8080", "--proxy", "--ready=port"}).ok());
  // The table says which flags those are, and --help says so for each.
  int proxy_only = 0;
  for (const FlagInfo& f : FlagTable()) {
    if (f.scope != FlagScope::kProxy) continue;
    ++proxy_only;
    EXPECT_EQ(f.help.rfind("with --proxy: ", 0), 0u) << f.name;
    ParsedOptions given;
    given.given = {"listen", f.name};
    EXPECT_FALSE(CheckCommandFlags(given).ok()) << f.name;
  }
  EXPECT_GE(proxy_only, 8);
}

// Shedding: a C++ app takes --shed-on-lag and the delay target, interval
// and classes it shares with proxy mode; corral takes the latter with
// --proxy only, and refuses --shed-on-lag (its copies serve the requests).
TEST(OptionsTest, ShedOnLagIsAnAppsAndItsSettingsAreSharedWithTheProxy) {
  auto app = ParseOptions({"--shed-on-lag=false", "--queue-target=20ms",
                           "--queue-interval=500ms", "--priority=GET=low"},
                          {});
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_FALSE(app->options.shed_on_lag);
  EXPECT_EQ(app->options.queue_target, absl::Milliseconds(20));
  EXPECT_EQ(app->options.queue_interval, absl::Milliseconds(500));
  EXPECT_TRUE(Options().shed_on_lag);
  auto check = [](std::vector<std::string> args) {
    auto p = ParseOptions(args, {}, Options(), FlagSet::kCommand);
    EXPECT_TRUE(p.ok()) << p.status();
    return CheckCommandFlags(*p);
  };
  EXPECT_TRUE(check({"--listen=:8080", "--proxy", "--queue-target=20ms"}).ok());
  EXPECT_EQ(check({"--listen=:8080", "--queue-target=20ms"}).message(),
            "--queue-target needs --listen and --proxy (see --help)");
  EXPECT_EQ(check({"--listen=:8080", "--priority=GET=low"}).message(),
            "--priority needs --listen and --proxy (see --help)");
  for (auto args : std::vector<std::vector<std::string>>{
           {"--listen=:8080", "--shed-on-lag=false"},
           {"--listen=:8080", "--proxy", "--shed-on-lag=true"}}) {
    EXPECT_NE(check(args).message().find("--shed-on-lag is for C++ apps"),
              std::string::npos);
  }
  EXPECT_FALSE(ParseOptions({"--shed-on-lag=maybe"}, {}).ok());
}

// tini's -e, -p and dumb-init's -r as corral's own flags, for the init
// shape only.
TEST(OptionsTest, InitShapeFlagsParseAndRefuseListen) {
  auto p = ParseOptions(
      {"--success-exit-codes=143, 130", "--rewrite-signal",
       "TERM:QUIT,10:0,SIGWINCH:HUP", "--parent-death-signal=USR1"},
      {}, Options(), FlagSet::kCommand);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.success_exit_codes, (std::set<int>{130, 143}));
  EXPECT_EQ(p->options.signal_rewrites,
            (std::map<int, int>{
                {SIGTERM, SIGQUIT}, {SIGUSR1, 0}, {SIGWINCH, SIGHUP}}));
  EXPECT_EQ(p->options.parent_death_signal, SIGUSR1);
  EXPECT_TRUE(CheckCommandFlags(*p).ok());
  // The table prints them back as they are read.
  for (const FlagInfo& f : FlagTable(p->options)) {
    if (f.name == "success-exit-codes") {
      EXPECT_EQ(f.default_value, "130,143");
    }
    if (f.name == "rewrite-signal") {
      EXPECT_EQ(f.default_value, "USR1:0,TERM:QUIT,WINCH:HUP");
    }
    if (f.name == "parent-death-signal") {
      EXPECT_EQ(f.default_value, "SIGUSR1");
    }
  }
  auto env = ParseOptions({}, {{"CORRAL_REWRITE_SIGNAL", "HUP:0"}}, Options(),
                          FlagSet::kCommand);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->options.signal_rewrites, (std::map<int, int>{{SIGHUP, 0}}));
  for (const char* bad :
       {"--success-exit-codes=256", "--success-exit-codes=-1",
        "--success-exit-codes=x", "--rewrite-signal=TERM",
        "--rewrite-signal=TERM:NOPE", "--rewrite-signal=0:TERM",
        "--rewrite-signal=KILL:TERM", "--rewrite-signal=CHLD:0",
        "--parent-death-signal=NOPE"}) {
    auto r = ParseOptions({bad}, {}, Options(), FlagSet::kCommand);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_FALSE(ParseOptions({"--rewrite-signal=TERM:QUIT"}, {}).ok())
      << "an app built on lib/ has no init shape";
  int init_only = 0;
  for (const FlagInfo& f : FlagTable()) {
    if (f.scope != FlagScope::kInit) continue;
    ++init_only;
    EXPECT_EQ(f.help.rfind("init shape only (no --listen): ", 0), 0u) << f.name;
    ParsedOptions given;
    given.given = {"listen", f.name};
    EXPECT_EQ(CheckCommandFlags(given).message(),
              "--" + f.name +
                  " is for the init shape only: corral -- CMD without "
                  "--listen (see --help)");
  }
  EXPECT_EQ(init_only, 4);
}

TEST(OptionsTest, HelpPrintsEveryFlagOfTheTable) {
  const std::string app = HelpText("corral-shop", Options());
  const std::string command = HelpText("corral", Options(), FlagSet::kCommand);
  for (const FlagInfo& f : FlagTable()) {
    EXPECT_NE(command.find("--" + f.name + "="), std::string::npos) << f.name;
    EXPECT_NE(command.find("env " + f.env + "\n"), std::string::npos) << f.name;
    EXPECT_EQ(app.find("--" + f.name + "=") != std::string::npos,
              f.scope == FlagScope::kAll)
        << f.name;
  }
}

TEST(OptionsTest, SignalsByNameOrNumber) {
  EXPECT_EQ(*ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(*ParseSignal("SIGQUIT"), SIGQUIT);
  EXPECT_EQ(*ParseSignal("10"), 10);
  EXPECT_FALSE(ParseSignal("SIGNOPE").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
}

TEST(OptionsTest, LifecycleGuardFlagsParseAndSayWhatIsWrong) {
  auto p = ParseOptions({"--memory-guard=0.75", "--max-worker-memory=512Mi",
                         "--max-requests=1000", "--max-requests-jitter=50",
                         "--max-worker-age=1h", "--max-worker-age-jitter=5m"},
                        {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options.memory_guard, std::optional<double>(0.75));
  EXPECT_EQ(p->options.max_worker_memory, int64_t{512} << 20);
  EXPECT_EQ(p->options.max_requests, 1000);
  EXPECT_EQ(p->options.max_requests_jitter, 50);
  EXPECT_EQ(p->options.max_worker_age, absl::Hours(1));
  EXPECT_EQ(p->options.max_worker_age_jitter, absl::Minutes(5));
  EXPECT_EQ(Options().memory_guard, std::optional<double>(0.8));
  p = ParseOptions({"--memory-guard=off", "--max-worker-memory=1G"}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->options.memory_guard.has_value());
  EXPECT_EQ(p->options.max_worker_memory, 1000000000);
  EXPECT_EQ(ParseOptions({"--memory-guard=90%"}, {}).status().message(),
            "flag --memory-guard: \"90%\" is not off or a fraction of the "
            "memory limit between 0 and 1 (example: 0.9)");
  EXPECT_FALSE(ParseOptions({"--memory-guard=1"}, {}).ok());
  EXPECT_FALSE(ParseOptions({"--memory-guard=0"}, {}).ok());
  EXPECT_EQ(ParseOptions({"--max-worker-memory=lots"}, {}).status().message(),
            "flag --max-worker-memory: \"lots\" is not a size in bytes "
            "(examples: 512Mi, 1G, 0)");
  EXPECT_FALSE(ParseOptions({"--max-worker-memory=-1Mi"}, {}).ok());
  EXPECT_FALSE(ParseOptions({"--max-requests=-5"}, {}).ok());
}

TEST(OptionsTest, MaxRequestsNeedsRequestsCorralCanCount) {
  auto check = [](std::vector<std::string> args) {
    auto p = ParseOptions(args, {}, Options(), FlagSet::kCommand);
    EXPECT_TRUE(p.ok()) << p.status();
    return CheckCommandFlags(*p);
  };
  absl::Status socket = check({"--listen=:8080", "--max-requests=100"});
  EXPECT_FALSE(socket.ok());
  EXPECT_NE(socket.message().find("--max-requests needs --proxy"),
            std::string::npos)
      << socket;
  EXPECT_FALSE(check({"--listen=:8080", "--max-requests-jitter=5"}).ok());
  EXPECT_TRUE(check({"--listen=:8080", "--proxy", "--max-requests=100"}).ok());
  // Age and memory limits need no request count.
  EXPECT_TRUE(check({"--listen=:8080", "--max-worker-age=1h",
                     "--max-worker-memory=1G", "--memory-guard=0.9"})
                  .ok());
  // The init shape has no workers to recycle.
  EXPECT_EQ(check({"--max-worker-age=1h"}).message(),
            "--max-worker-age needs --listen: the init shape has no workers "
            "to recycle (see --help)");
}

}  // namespace
}  // namespace corral
