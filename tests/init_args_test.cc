// corral invoked as tini or dumb-init: each program's command line and
// environment read as that program reads them, translated into the init
// shape's options; refusals with that program's exit code and message.
#include <gtest/gtest.h>
#include <signal.h>

#include "init/dumb_init_args.h"
#include "init/personality.h"
#include "init/tini_args.h"

namespace corral::init {
namespace {

using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

TEST(PersonalityTest, TheProgramsNameChoosesIt) {
  EXPECT_EQ(PersonalityOf("tini"), Personality::kTini);
  EXPECT_EQ(PersonalityOf("/usr/bin/tini"), Personality::kTini);
  EXPECT_EQ(PersonalityOf("/sbin/dumb-init"), Personality::kDumbInit);
  EXPECT_EQ(PersonalityOf("dumb-init"), Personality::kDumbInit);
  EXPECT_EQ(PersonalityOf("/opt/corral/bin/corral"), Personality::kCorral);
  EXPECT_EQ(PersonalityOf("tini-x"), Personality::kCorral);
  EXPECT_EQ(PersonalityOf("/tini/corral"), Personality::kCorral);
  EXPECT_EQ(PersonalityOf(""), Personality::kCorral);
}

TEST(TiniArgsTest, DefaultsAreTinisBehaviour) {
  Invocation inv = ParseTiniArgs({"tini", "--", "app", "-v"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_EQ(inv.command, (Args{"app", "-v"}));
  const Options& o = inv.parsed.options;
  EXPECT_EQ(o.drain_delay, absl::ZeroDuration());
  EXPECT_EQ(o.drain_timeout, absl::InfiniteDuration()) << "tini never kills";
  EXPECT_FALSE(o.process_group);
  EXPECT_EQ(o.log_level, log::Level::kWarn) << "tini's verbosity 1";
  EXPECT_TRUE(o.success_exit_codes.empty());
  EXPECT_EQ(o.parent_death_signal, 0);
  EXPECT_FALSE(o.warn_on_reap);
  EXPECT_FALSE(o.stop_on_terminal_stop_signals);
  EXPECT_FALSE(o.leave_working_directory) << "tini keeps its own";
  EXPECT_EQ(o.signal_rewrites, (std::map<int, int>{{SIGTTIN, 0}, {SIGTTOU, 0}}))
      << "tini ignores the two, sent to it";
  EXPECT_TRUE(inv.parsed.given.empty());
}

TEST(TiniArgsTest, EveryOptionTranslates) {
  Invocation inv =
      ParseTiniArgs({"/usr/bin/tini", "-s", "-g", "-w", "-e", "143", "-e130",
                     "-p", "SIGUSR1", "-vv", "--", "app"},
                    {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  const Options& o = inv.parsed.options;
  EXPECT_TRUE(o.process_group);
  EXPECT_FALSE(o.stop_group_at_exit) << "tini -g leaves the rest alone";
  EXPECT_TRUE(o.warn_on_reap);
  EXPECT_EQ(o.success_exit_codes, (std::set<int>{130, 143}));
  EXPECT_EQ(o.parent_death_signal, SIGUSR1);
  EXPECT_EQ(o.log_level, log::Level::kDebug);
  EXPECT_EQ(inv.command, (Args{"app"}));
  // Clustered, as getopt takes them.
  inv = ParseTiniArgs({"tini", "-sgve143", "app"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_TRUE(inv.parsed.options.process_group);
  EXPECT_EQ(inv.parsed.options.success_exit_codes, (std::set<int>{143}));
  EXPECT_EQ(inv.parsed.options.log_level, log::Level::kInfo);
}

TEST(TiniArgsTest, OptionsMayFollowTheProgramUnlessPosixlyCorrect) {
  // getopt permutes: without "--", tini takes the program's options.
  Invocation inv = ParseTiniArgs({"tini", "app", "-g", "arg"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_TRUE(inv.parsed.options.process_group);
  EXPECT_EQ(inv.command, (Args{"app", "arg"}));
  inv = ParseTiniArgs({"tini", "app", "--", "-g"}, {});
  EXPECT_EQ(inv.command, (Args{"app", "-g"}));
  EXPECT_FALSE(inv.parsed.options.process_group);
  inv = ParseTiniArgs({"tini", "app", "-g"}, {{"POSIXLY_CORRECT", ""}});
  EXPECT_EQ(inv.command, (Args{"app", "-g"}));
  EXPECT_FALSE(inv.parsed.options.process_group);
  EXPECT_EQ(ParseTiniArgs({"tini", "ls", "-x"}, {}).exit_code, 1);
}

TEST(TiniArgsTest, TheEnvironmentAsTiniReadsIt) {
  Invocation inv =
      ParseTiniArgs({"tini", "app"},
                    {{"TINI_KILL_PROCESS_GROUP", ""}, {"TINI_SUBREAPER", "1"}});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_TRUE(inv.parsed.options.process_group) << "set at all is on";
  for (const auto& [value, level] :
       std::vector<std::pair<std::string, log::Level>>{
           {"0", log::Level::kError},
           {"1", log::Level::kWarn},
           {"2", log::Level::kInfo},
           {"3", log::Level::kDebug},
           {"junk", log::Level::kError}}) {
    // TINI_VERBOSITY wins over -v, as tini reads it after the options.
    inv = ParseTiniArgs({"tini", "-vvv", "app"}, {{"TINI_VERBOSITY", value}});
    EXPECT_EQ(inv.parsed.options.log_level, level) << value;
  }
}

TEST(TiniArgsTest, AnswersWithoutRunning) {
  Invocation help = ParseTiniArgs({"/usr/bin/tini", "-h"}, {});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: tini [OPTIONS] PROGRAM -- [ARGS]"),
            std::string::npos)
      << help.out;
  EXPECT_NE(help.out.find("--success-exit-codes"), std::string::npos);
  EXPECT_EQ(help.err, "");
  Invocation version = ParseTiniArgs({"tini", "--version"}, {});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("tini version"), std::string::npos);
  EXPECT_EQ(ParseTiniArgs({"tini", "-l"}, {}).exit_code, 0);
}

TEST(TiniArgsTest, UsageErrorsExit1WithTinisMessage) {
  struct Case {
    Args args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"tini", "-x", "app"}, "tini: invalid option -- 'x'\n"},
           // --version only alone; otherwise getopt reads it as "-", ...
           {{"tini", "-s", "--version"}, "tini: invalid option -- '-'\n"},
           {{"tini", "-p"}, "tini: option requires an argument -- 'p'\n"},
           {{"tini", "-p", "TERM", "app"}, "tini: not a valid option for -p"},
           {{"tini", "-p", "SIGSTKFLT", "app"},
            "tini: not a valid option for -p"},
           {{"tini", "-e", "256", "app"}, "tini: not a valid option for -e"},
           {{"tini", "-e", "x", "app"}, "tini: not a valid option for -e"},
           {{"tini"}, "tini (corral"},
           {{"tini", "-g", "--"}, "tini (corral"},
       }) {
    Invocation inv = ParseTiniArgs(c.args, {});
    EXPECT_EQ(inv.exit_code, 1) << c.args.back();
    EXPECT_EQ(inv.err.rfind(c.message, 0), 0u) << inv.err;
    EXPECT_EQ(inv.out, "");
  }
  // After getopt's complaint, the usage, as tini prints it.
  EXPECT_NE(ParseTiniArgs({"tini", "-x"}, {}).err.find("Usage: tini"),
            std::string::npos);
}

TEST(DumbInitArgsTest, DefaultsAreDumbInitsBehaviour) {
  Invocation inv = ParseDumbInitArgs({"dumb-init", "app", "-v"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_EQ(inv.command, (Args{"app", "-v"})) << "options end at the program";
  const Options& o = inv.parsed.options;
  EXPECT_TRUE(o.process_group) << "setsid mode: signals to the group";
  EXPECT_TRUE(o.stop_group_at_exit);
  EXPECT_EQ(o.drain_delay, absl::ZeroDuration());
  EXPECT_EQ(o.drain_timeout, absl::InfiniteDuration());
  EXPECT_EQ(o.log_level, log::Level::kError);
  EXPECT_EQ(o.signal_rewrites,
            (std::map<int, int>{
                {SIGTSTP, SIGSTOP}, {SIGTTIN, SIGSTOP}, {SIGTTOU, SIGSTOP}}));
  EXPECT_TRUE(o.stop_on_terminal_stop_signals) << "for the shell's job control";
  EXPECT_TRUE(o.leave_working_directory) << "it moves to /";
}

TEST(DumbInitArgsTest, EveryOptionTranslates) {
  Invocation inv =
      ParseDumbInitArgs({"dumb-init", "-c", "-r", "15:3", "--rewrite=10:0",
                         "-r2:1", "-v", "--", "app", "--", "x"},
                        {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  const Options& o = inv.parsed.options;
  EXPECT_FALSE(o.process_group);
  EXPECT_FALSE(o.stop_group_at_exit);
  EXPECT_EQ(o.signal_rewrites,
            (std::map<int, int>{{SIGTERM, SIGQUIT}, {SIGUSR1, 0}, {2, 1}}))
      << "no STOP rewrites without setsid";
  EXPECT_EQ(o.log_level, log::Level::kDebug);
  EXPECT_EQ(inv.command, (Args{"app", "--", "x"}));
  // Long options abbreviate; -r set for TSTP wins over setsid's STOP.
  inv = ParseDumbInitArgs(
      {"dumb-init", "--single", "--verb", "--rew", "20:0", "app"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_FALSE(inv.parsed.options.process_group);
  EXPECT_EQ(inv.parsed.options.log_level, log::Level::kDebug);
  inv = ParseDumbInitArgs({"dumb-init", "-r", "20:0", "app"}, {});
  EXPECT_EQ(inv.parsed.options.signal_rewrites.at(SIGTSTP), 0);
  EXPECT_EQ(inv.parsed.options.signal_rewrites.at(SIGTTIN), SIGSTOP);
  // sscanf("%d:%d") reads a prefix: blanks and trailing junk pass.
  inv = ParseDumbInitArgs({"dumb-init", "-r", " 15: 3junk", "app"}, {});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_EQ(inv.parsed.options.signal_rewrites.at(SIGTERM), SIGQUIT);
}

TEST(DumbInitArgsTest, TheEnvironmentAsDumbInitReadsIt) {
  Invocation inv =
      ParseDumbInitArgs({"dumb-init", "app"},
                        {{"DUMB_INIT_SETSID", "0"}, {"DUMB_INIT_DEBUG", "1"}});
  ASSERT_FALSE(inv.exit_code) << inv.err;
  EXPECT_FALSE(inv.parsed.options.process_group);
  EXPECT_TRUE(inv.parsed.options.signal_rewrites.empty());
  EXPECT_EQ(inv.parsed.options.log_level, log::Level::kDebug);
  // Only "0" and "1" count.
  inv = ParseDumbInitArgs({"dumb-init", "app"}, {{"DUMB_INIT_SETSID", "no"},
                                                 {"DUMB_INIT_DEBUG", "yes"}});
  EXPECT_TRUE(inv.parsed.options.process_group);
  EXPECT_EQ(inv.parsed.options.log_level, log::Level::kError);
}

TEST(DumbInitArgsTest, AnswersWithoutRunningOnStderr) {
  for (const char* flag : {"-h", "--help", "--he"}) {
    Invocation help = ParseDumbInitArgs({"dumb-init", flag, "app"}, {});
    EXPECT_EQ(help.exit_code, 0) << flag;
    EXPECT_NE(help.err.find("-r, --rewrite s:r"), std::string::npos)
        << help.err;
    EXPECT_EQ(help.out, "");
  }
  Invocation version = ParseDumbInitArgs({"dumb-init", "-V"}, {});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.err.find("dumb-init"), std::string::npos);
  // In order: -h before a bad option still answers with the help.
  EXPECT_EQ(ParseDumbInitArgs({"dumb-init", "-hx"}, {}).exit_code, 0);
}

TEST(DumbInitArgsTest, UsageErrorsExit1WithDumbInitsMessage) {
  struct Case {
    Args args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"dumb-init", "-x", "app"}, "dumb-init: invalid option -- 'x'\n"},
           {{"dumb-init", "--foo", "app"},
            "dumb-init: unrecognized option '--foo'\n"},
           {{"dumb-init", "--ver", "app"},
            "dumb-init: option '--ver' is ambiguous; possibilities: "
            "'--verbose' '--version'\n"},
           {{"dumb-init", "--verbose=1", "app"},
            "dumb-init: option '--verbose' doesn't allow an argument\n"},
           {{"dumb-init", "--rewrite"},
            "dumb-init: option '--rewrite' requires an argument\n"},
           {{"dumb-init", "-r"},
            "dumb-init: option requires an argument -- 'r'\n"},
           {{"dumb-init", "-r", "15:32", "app"},
            "Usage: -r option takes <signum>:<signum>"},
           {{"dumb-init", "-r", "0:1", "app"},
            "Usage: -r option takes <signum>:<signum>"},
           {{"dumb-init", "-r", "TERM:QUIT", "app"},
            "Usage: -r option takes <signum>:<signum>"},
           {{"dumb-init", "-r", "15", "app"},
            "Usage: -r option takes <signum>:<signum>"},
           {{"dumb-init"}, "Usage: dumb-init [option] program [args]\n"},
           {{"dumb-init", "-c", "--"}, "Usage: dumb-init"},
       }) {
    Invocation inv = ParseDumbInitArgs(c.args, {});
    EXPECT_EQ(inv.exit_code, 1) << c.args[1 % c.args.size()];
    EXPECT_EQ(inv.err.rfind(c.message, 0), 0u) << inv.err;
  }
}

}  // namespace
}  // namespace corral::init
