#include "options/options.h"

#include <gtest/gtest.h>

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
