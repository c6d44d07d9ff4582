// The flag table behind ParseOptions, HelpText and FlagTable: each flag
// once, with its variable, help text, scope, parser and printer. Only
// lib/options reads it; everything else sees FlagTable().
#ifndef CORRAL_OPTIONS_FLAG_TABLE_H_
#define CORRAL_OPTIONS_FLAG_TABLE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "options/options.h"

namespace corral {

using Setter = std::function<absl::Status(const std::string&, Options&)>;
using Getter = std::function<std::string(const Options&)>;

struct Flag {
  const char* name;
  const char* env;
  const char* help;
  Setter set;
  Getter get;
  FlagScope scope = FlagScope::kAll;
  bool boolean = false;  // "--name" alone means true
};

// Every flag, in --help's order.
const std::vector<Flag>& Flags();

}  // namespace corral

#endif  // CORRAL_OPTIONS_FLAG_TABLE_H_
