// The sd_notify message parser: a worker's datagram on NOTIFY_SOCKET is any
// bytes the app chose to send. Every assignment found must be one line with
// a name before its first '='.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "command/command_workers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  auto fields = corral::command::ParseNotify(message);
  for (const auto& [name, value] : fields) {
    if (name.find('\n') != name.npos || name.find('=') != name.npos ||
        value.find('\n') != value.npos) {
      __builtin_trap();
    }
    if (message.find(name + "=" + value) == message.npos) __builtin_trap();
  }
  return 0;
}
