// Writes the spec (the rule groups) of the one PrometheusRule in a rendered
// chart as a plain Prometheus rule file, for promtool.
// Usage: node extract-rules.mjs rendered.yaml rules.yaml
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

const [input, output] = process.argv.slice(2);
const rules = parseAllDocuments(readFileSync(input, "utf8"))
  .map((d) => d.toJSON())
  .filter((d) => d?.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.error(`want 1 PrometheusRule, found ${rules.length}`);
  process.exit(1);
}
writeFileSync(output, stringify(rules[0].spec));
