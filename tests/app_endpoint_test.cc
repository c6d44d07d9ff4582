#include "command/app_endpoint.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include "loopback_listener.h"

namespace corral::command {
namespace {

using test_support::ListenLoopback;

TEST(AppEndpointTest, NoneIsWhatACopyOnTheSharedSocketHas) {
  AppEndpoint none;
  EXPECT_TRUE(none.none());
  EXPECT_EQ(none.ForRegion(), 0u);
  EXPECT_FALSE(none.Accepting());
  nlohmann::json j;
  none.AddTo(j);
  EXPECT_EQ(j, nlohmann::json({{"port", 0}}));
}

TEST(AppEndpointTest, APortAcceptsOnceSomethingListensThere) {
  uint16_t port = 0;
  int fd = ListenLoopback(&port);
  ASSERT_GE(fd, 0);
  AppEndpoint e = AppEndpoint::Port(port);
  EXPECT_FALSE(e.none());
  EXPECT_EQ(e.port(), port);
  EXPECT_EQ(e.ForRegion(), port);
  EXPECT_EQ(e.PortEnv(), std::to_string(port));
  EXPECT_TRUE(e.Accepting());
  close(fd);
  EXPECT_FALSE(e.Accepting());
}

TEST(AppEndpointTest, ASocketIsNamedByItsIdAndRemovedByName) {
  std::string dir = ::testing::TempDir() + "/app-endpoint-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  AppEndpoint e = AppEndpoint::Socket(dir, 7);
  EXPECT_EQ(e.PortEnv(), dir + "/app-7.sock");
  EXPECT_EQ(e.ForRegion(), 7u);
  EXPECT_EQ(e.port(), 0);
  EXPECT_FALSE(e.Accepting());

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  e.PortEnv().copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  EXPECT_TRUE(e.Accepting());
  nlohmann::json j;
  e.AddTo(j);
  EXPECT_EQ(j, nlohmann::json({{"socket", dir + "/app-7.sock"}}));
  close(fd);
  e.RemoveSocket();
  EXPECT_FALSE(std::filesystem::exists(e.PortEnv()));
  std::filesystem::remove_all(dir);
}

TEST(AppEndpointTest, AFreePortIsBindableAndNotTaken) {
  auto first = FreeLoopbackPort({});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(*first, 1024);
  auto second = FreeLoopbackPort({*first});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*second, *first);
}

}  // namespace
}  // namespace corral::command
