#include "pool/worker_env.h"

#include <gtest/gtest.h>

#include <algorithm>


namespace corral::pool {
namespace {

bool Has(const std::vector<std::string>& env, const std::string& kv) {
  return std::find(env.begin(), env.end(), kv) != env.end();
}

TEST(WorkerEnvTest, WhatTheMasterWasGivenNeverReachesAWorker) {
  const std::map<std::string, std::string> master = {
      {"HOME", "/home/app"},
      {"CORRAL_ROLE", "worker"},
      {"CORRAL_WORKER_SLOT", "3"},
      {"CORRAL_PROXY_APP_SLOTS", "0:16"},
      {"CORRAL_PROXY_QUEUE_SHARE", "9"},
      {"CORRAL_PROXY_APP_SOCKETS", "/stale"},
      {"NOTIFY_SOCKET", "@systemd"},
      {"LISTEN_FDS", "1"},
      {"PORT", "80"},
      {"CORRAL_WORKERS", "2"},
      {"CORRAL_CONFIG_DIR", "/config"},
      {"CORRAL_WORKER_TIMEOUT", "10s"},
  };
  for (WorkerKind kind : {WorkerKind::kSelf, WorkerKind::kCommand}) {
    std::vector<std::string> env = InheritedEnv(master, kind);
    EXPECT_TRUE(Has(env, "HOME=/home/app"));
    // A flag's variable, not one corral sets for a worker.
    EXPECT_TRUE(Has(env, "CORRAL_WORKER_TIMEOUT=10s"));
    for (const char* gone :
         {"CORRAL_ROLE=", "CORRAL_WORKER_SLOT=", "CORRAL_PROXY_APP_SLOTS=",
          "CORRAL_PROXY_QUEUE_SHARE=", "CORRAL_PROXY_APP_SOCKETS=",
          "NOTIFY_SOCKET=", "LISTEN_FDS=", "PORT="}) {
      for (const std::string& kv : env) {
        EXPECT_NE(kv.rfind(gone, 0), 0u) << kv;
      }
    }
  }
  // corral's own workers read their flags again; a command's copy gets
  // corral's meaning of these two names instead.
  std::vector<std::string> self = InheritedEnv(master, WorkerKind::kSelf);
  EXPECT_TRUE(Has(self, "CORRAL_WORKERS=2"));
  EXPECT_TRUE(Has(self, "CORRAL_CONFIG_DIR=/config"));
  std::vector<std::string> copy = InheritedEnv(master, WorkerKind::kCommand);
  EXPECT_FALSE(Has(copy, "CORRAL_WORKERS=2"));
  EXPECT_FALSE(Has(copy, "CORRAL_CONFIG_DIR=/config"));
}

TEST(WorkerEnvTest, SlotsRoundTrip) {
  int first = -1, count = -1;
  EXPECT_TRUE(ParseSlots(FormatSlots(16, 8), &first, &count));
  EXPECT_EQ(first, 16);
  EXPECT_EQ(count, 8);
  EXPECT_FALSE(ParseSlots("16", &first, &count));
  EXPECT_FALSE(ParseSlots("-1:2", &first, &count));
}

TEST(WorkerEnvTest, ParseNeedsEveryNumberTheMasterSets) {
  std::map<std::string, std::string> env = {
      {kIndexEnv, "1"},     {kSlotEnv, "5"},     {kGenerationEnv, "2"},
      {kListenFdEnv, "3"},  {kRegionFdEnv, "4"}, {kConfigFdEnv, "5"},
      {kSiblingsEnv, "0:8"}};
  auto w = ParseWorkerEnv(env);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->index, 1);
  EXPECT_EQ(w->slot, 5);
  EXPECT_EQ(w->generation, 2);
  EXPECT_EQ(w->siblings_count, 8);
  env.erase(kSlotEnv);
  EXPECT_FALSE(ParseWorkerEnv(env).ok());
}

}  // namespace
}  // namespace corral::pool
