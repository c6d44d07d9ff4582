#include "atomic_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>

namespace corral::e2e {

namespace fs = std::filesystem;

AtomicWriter::AtomicWriter(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
}

void AtomicWriter::Write(const std::map<std::string, std::string>& payload) {
  // 1. The new generation's directory, named like the kubelet names it.
  char stamp[64];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.",
                std::gmtime(&now));
  std::string ts_name = stamp + std::to_string(getpid()) + "_" +
                        std::to_string(++counter_) + "_" +
                        std::to_string(std::random_device()() % 100000);
  fs::path ts_dir = fs::path(dir_) / ts_name;
  fs::create_directory(ts_dir);
  for (const auto& [key, content] : payload) {
    std::ofstream(ts_dir / key, std::ios::binary) << content;
    chmod((ts_dir / key).c_str(), 0644);
  }
  chmod(ts_dir.c_str(), 0755);

  // 2. The old generation, from the current ..data link.
  fs::path data = fs::path(dir_) / "..data";
  std::string old_ts;
  std::set<std::string> old_keys;
  if (fs::is_symlink(data)) {
    old_ts = fs::read_symlink(data).string();
    for (const auto& e : fs::directory_iterator(fs::path(dir_) / old_ts)) {
      old_keys.insert(e.path().filename().string());
    }
  }

  // 3. The commit: ..data_tmp -> new dir, renamed over ..data.
  fs::path tmp = fs::path(dir_) / "..data_tmp";
  fs::remove(tmp);
  fs::create_symlink(ts_name, tmp);
  if (rename(tmp.c_str(), data.c_str()) != 0) {
    throw std::runtime_error("rename ..data_tmp -> ..data failed");
  }

  // 4. Links for keys that are new, 5. removal of deleted keys' links.
  for (const auto& [key, content] : payload) {
    fs::path link = fs::path(dir_) / key;
    if (!fs::is_symlink(link))
      fs::create_symlink(fs::path("..data") / key, link);
  }
  for (const std::string& key : old_keys) {
    if (!payload.count(key)) fs::remove(fs::path(dir_) / key);
  }

  // 6. The old generation's directory goes.
  if (!old_ts.empty()) fs::remove_all(fs::path(dir_) / old_ts);
}

}  // namespace corral::e2e
