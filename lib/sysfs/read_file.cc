#include "sysfs/read_file.h"

#include <fstream>
#include <sstream>

namespace corral::sysfs {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

}  // namespace corral::sysfs
