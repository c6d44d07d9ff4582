// Config parsing: a ConfigMap's files are whatever the cluster's users wrote.
// The input is read two ways: as the snapshot JSON a master hands its
// workers (file name -> content), and as the content of each key alone. Both
// are typed by corral's key types and checked by the shop's own rules.
#include "config/config.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "shop/shop_config.h"

namespace {

using corral::config::Config;
using corral::config::ConfigSpec;
using corral::config::KeySpec;
using corral::config::KeyType;
using corral::config::Snapshot;

// One key of every type, for the typing a spec without app rules does.
const ConfigSpec& EveryType() {
  static const ConfigSpec spec{{KeySpec{"json", KeyType::kJson, "{}", ""},
                                KeySpec{"string", KeyType::kString, "", ""},
                                KeySpec{"int", KeyType::kInt, "0", ""},
                                KeySpec{"double", KeyType::kDouble, "0", ""},
                                KeySpec{"bool", KeyType::kBool, "false", ""}},
                               nullptr};
  return spec;
}

void ParseBoth(const Snapshot& snapshot) {
  static const ConfigSpec shop = shop::ShopConfigSpec();
  for (const ConfigSpec* spec : {&shop, &EveryType()}) {
    auto config = Config::Parse(*spec, snapshot);
    if (!config.ok()) continue;
    if (config->hash != corral::config::HashSnapshot(snapshot)) {
      __builtin_trap();
    }
    // What validated must read back the same way.
    if (spec == &shop && !shop::ShopConfigFrom(*config).ok()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);

  auto snapshot = corral::config::SnapshotFromJson(in);
  if (snapshot.ok()) {
    auto again = corral::config::SnapshotFromJson(
        corral::config::SnapshotToJson(*snapshot));
    if (!again.ok() || *again != *snapshot) __builtin_trap();
    ParseBoth(*snapshot);
  }
  for (const char* key : {"sale.json", "features.json", "banner", "json", "int",
                          "double", "bool"}) {
    ParseBoth(Snapshot{{key, in}});
  }
  return 0;
}
