// The chart's values and the docs' flag reference cannot drift from the
// flag table: every flag corral reads can be set from helm/corral-shop,
// every value the chart offers under `corral:` is a flag, and
// docs/operations.md has a row for each flag and no other.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "options/options.h"

namespace corral {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "max-body" -> "maxBody", as the chart spells flags under `corral:`.
std::string CamelCase(const std::string& flag) {
  std::string out;
  bool upper = false;
  for (char c : flag) {
    if (c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// The keys of values.yaml's `corral:` block (two-space indented lines).
std::set<std::string> CorralValues(const std::string& values) {
  std::set<std::string> keys;
  std::istringstream in(values);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != ' ') {
      inside = line.rfind("corral:", 0) == 0;
      continue;
    }
    if (!inside || line.size() < 3 || line[2] == ' ' || line[2] == '#') {
      continue;
    }
    keys.insert(line.substr(2, line.find(':') - 2));
  }
  return keys;
}

// Flags the chart sets from values of its own, not from `corral.<flag>`.
const std::map<std::string, std::string>& ChartOwnValues() {
  static const std::map<std::string, std::string> own = {
      {"listen", "ports"},
      {"admin", "ports"},
      {"workers", "workers"},
      {"drain-delay", "drainDelaySeconds"},
      {"drain-timeout", "drainTimeoutSeconds"},
      {"config-dir", "configMountPath"},
  };
  return own;
}

TEST(FlagTableTest, EveryFlagIsAChartValueAndEveryChartValueAFlag) {
  const std::string values = ReadFile(CORRAL_CHART "/values.yaml");
  const std::string deployment =
      ReadFile(CORRAL_CHART "/templates/deployment.yaml");
  ASSERT_FALSE(values.empty());
  ASSERT_FALSE(deployment.empty());
  const std::set<std::string> corral = CorralValues(values);
  ASSERT_TRUE(corral.count("bindAddress")) << "the parse found no corral:";
  std::set<std::string> flags_in_chart = {"bindAddress"};
  for (const FlagInfo& f : FlagTable()) {
    // The init shape's: the chart always runs corral with --listen.
    if (f.scope == FlagScope::kInit) continue;
    EXPECT_NE(deployment.find(f.env), std::string::npos)
        << f.env << " (--" << f.name << ") is not set in deployment.yaml";
    if (auto own = ChartOwnValues().find(f.name);
        own != ChartOwnValues().end()) {
      EXPECT_NE(values.find("\n" + own->second + ":"), std::string::npos)
          << "--" << f.name << ": no top-level " << own->second;
      continue;
    }
    const std::string key = CamelCase(f.name);
    flags_in_chart.insert(key);
    EXPECT_TRUE(corral.count(key))
        << "--" << f.name << " has no value corral." << key;
  }
  for (const std::string& key : corral) {
    EXPECT_TRUE(flags_in_chart.count(key))
        << "values.yaml offers corral." << key << ", which is no flag";
  }
}

// The flag reference in docs/operations.md: one row per flag, in the
// table's order, each with the flag's variable; no row for a flag that is
// not there.
TEST(FlagTableTest, TheDocsFlagReferenceHasEveryFlagAndNoOther) {
  const std::string docs = ReadFile(CORRAL_DOCS "/operations.md");
  ASSERT_FALSE(docs.empty());
  std::vector<std::pair<std::string, std::string>> rows;  // flag, env
  std::istringstream in(docs);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `--", 0) != 0) continue;
    std::string flag = line.substr(5, line.find('`', 5) - 5);
    flag = flag.substr(0, flag.find('='));
    size_t env_at = line.find("| `", 5);
    std::string env =
        env_at == std::string::npos
            ? ""
            : line.substr(env_at + 3, line.find('`', env_at + 3) - env_at - 3);
    rows.emplace_back(flag, env);
  }
  std::vector<std::pair<std::string, std::string>> want = {{"help", ""},
                                                           {"version", ""}};
  for (const FlagInfo& f : FlagTable()) want.emplace_back(f.name, f.env);
  ASSERT_EQ(rows.size(), want.size()) << "rows in docs/operations.md";
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(rows[i].first, want[i].first) << "row " << i;
    if (!want[i].second.empty()) {
      EXPECT_EQ(rows[i].second, want[i].second) << "--" << want[i].first;
    }
  }
}

TEST(FlagTableTest, CamelCaseIsTheChartsSpelling) {
  EXPECT_EQ(CamelCase("max-body"), "maxBody");
  EXPECT_EQ(CamelCase("worker-start-timeout"), "workerStartTimeout");
  EXPECT_EQ(CamelCase("proxy"), "proxy");
}

}  // namespace
}  // namespace corral
