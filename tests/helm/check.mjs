// Checks one rendering of the chart: every document against the Kubernetes
// schemas (kubernetes-models), then corral's rules for the case.
// Usage: node check.mjs CASE rendered.yaml   (exit 1 on any failure)
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [caseName, file] = process.argv.slice(2);
const docs = parseAllDocuments(readFileSync(file, "utf8"))
  .map((d) => d.toJSON())
  .filter((d) => d && d.kind);
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

// 1. Schemas. ServiceMonitor is a CRD kubernetes-models does not carry.
for (const doc of docs) {
  if (doc.apiVersion === "monitoring.coreos.com/v1") continue;
  const mod = await import(`kubernetes-models/${doc.apiVersion}`);
  const Model = mod[doc.kind];
  if (!Model) { failures.push(`no schema for ${doc.apiVersion} ${doc.kind}`); continue; }
  try {
    new Model(doc).validate();
  } catch (e) {
    failures.push(`${doc.kind} ${doc.metadata?.name}: ${e.message.split("\n").slice(0, 5).join(" ")}`);
  }
}

const byKind = (kind) => docs.filter((d) => d.kind === kind);
const deployment = byKind("Deployment")[0];
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
const seconds = (s) => Number(String(s).replace(/s$/, ""));

// 2. Rules every rendering keeps.
check(deployment.spec.strategy.rollingUpdate.maxUnavailable === 0, "maxUnavailable must be 0");
check(pod.terminationGracePeriodSeconds >= seconds(env.CORRAL_DRAIN_DELAY) + seconds(env.CORRAL_DRAIN_TIMEOUT) + 1,
  `grace ${pod.terminationGracePeriodSeconds} must exceed drain delay + timeout`);
check(container.startupProbe?.httpGet?.path === "/startupz" && container.startupProbe.httpGet.port === "admin", "startup probe on admin /startupz");
check(container.livenessProbe?.httpGet?.path === "/livez" && container.livenessProbe.httpGet.port === "admin", "liveness probe on admin /livez");
check(container.readinessProbe?.httpGet?.path === "/readyz" && container.readinessProbe.httpGet.port === "admin", "readiness probe on admin /readyz");
check(container.ports.some((p) => p.name === "admin" && p.containerPort === 9901), "admin port 9901");
check(JSON.stringify(docs).indexOf("subPath") < 0, "no subPath anywhere");
const mount = container.volumeMounts.find((m) => m.mountPath === env.CORRAL_CONFIG_DIR);
check(mount && !mount.subPath, "the ConfigMap is mounted as a directory at CORRAL_CONFIG_DIR");
const volume = pod.volumes.find((v) => v.name === mount?.name);
check(volume?.configMap?.name === byKind("ConfigMap")[0]?.metadata.name, "the mounted volume is the chart's ConfigMap");
check(pod.securityContext.runAsNonRoot === true && Number.isInteger(pod.securityContext.runAsUser), "runAsNonRoot with a numeric user");
check(pod.securityContext.seccompProfile?.type === "RuntimeDefault", "seccomp RuntimeDefault");
check(container.securityContext.readOnlyRootFilesystem === true, "readOnlyRootFilesystem");
check(container.securityContext.allowPrivilegeEscalation === false, "allowPrivilegeEscalation false");
check(JSON.stringify(container.securityContext.capabilities?.drop) === '["ALL"]', "capabilities drop ALL");
check(pod.automountServiceAccountToken === false, "automountServiceAccountToken false");
check(byKind("PodDisruptionBudget").length === 1 && byKind("PodDisruptionBudget")[0].apiVersion === "policy/v1", "a policy/v1 PDB");
check(byKind("ServiceAccount").length === 1, "a ServiceAccount");
check(byKind("Service").length === 1, "a Service");
const hookPods = byKind("Pod").filter((p) => p.metadata.annotations?.["helm.sh/hook"] === "test");
check(hookPods.length === 1 && hookPods[0].spec.containers[0].args[0] === "healthcheck", "a helm test hook running healthcheck");

// 3. The case's own expectations.
const hpa = byKind("HorizontalPodAutoscaler");
const monitors = byKind("ServiceMonitor");
const annotations = deployment.spec.template.metadata.annotations || {};
const expect = {
  defaults() {
    check(env.CORRAL_WORKERS === "2", `workers ${env.CORRAL_WORKERS}, want 2 (CPU limit 2)`);
    check(pod.terminationGracePeriodSeconds === 30, `grace ${pod.terminationGracePeriodSeconds}, want 5+20+5`);
    check(env.CORRAL_DRAIN_DELAY === "5s" && env.CORRAL_DRAIN_TIMEOUT === "20s", "drain env from values");
    check(deployment.spec.replicas === 2, "replicas 2");
    check(hpa.length === 0, "no HPA by default");
    check(monitors.length === 0, "no ServiceMonitor by default");
    check(!("checksum/config" in annotations), "no checksum/config annotation by default");
  },
  autoscaling() {
    check(hpa.length === 1 && hpa[0].apiVersion === "autoscaling/v2", "an autoscaling/v2 HPA");
    check(hpa[0]?.spec.scaleTargetRef.name === deployment.metadata.name, "the HPA targets the Deployment");
    check(!("replicas" in deployment.spec), "no replicas when the HPA is on");
  },
  "monitoring-crd"() {
    check(monitors.length === 1, "a ServiceMonitor when enabled and the CRD exists");
    check(monitors[0]?.spec.endpoints[0].port === "admin" && monitors[0]?.spec.endpoints[0].path === "/metrics", "it scrapes admin /metrics");
  },
  "monitoring-no-crd"() {
    check(monitors.length === 0, "no ServiceMonitor without the CRD");
  },
  "cpu-1500m"() {
    check(env.CORRAL_WORKERS === "2", `workers ${env.CORRAL_WORKERS}, want ceil(1.5) = 2`);
  },
  "cpu-500m"() {
    check(env.CORRAL_WORKERS === "1", `workers ${env.CORRAL_WORKERS}, want 1`);
  },
  "cpu-none"() {
    check(env.CORRAL_WORKERS === "2", `workers ${env.CORRAL_WORKERS}, want the safe default 2`);
    check(!container.resources?.limits?.cpu, "no CPU limit rendered");
  },
  "long-drain"() {
    check(pod.terminationGracePeriodSeconds === 10 + 50 + 5, `grace ${pod.terminationGracePeriodSeconds}, want 65`);
    check(env.CORRAL_DRAIN_TIMEOUT === "50s", "drain timeout env follows the value");
  },
  "checksum-opt-in"() {
    check(/^[0-9a-f]{64}$/.test(annotations["checksum/config"] || ""), "checksum/config annotation when opted in");
  },
};
if (!expect[caseName]) { console.error(`unknown case ${caseName}`); process.exit(2); }
expect[caseName]();

for (const f of failures) console.log(`  FAIL ${caseName}: ${f}`);
process.exit(failures.length ? 1 : 0);
