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

// 1. Schemas. ServiceMonitor, PrometheusRule and ScaledObject are CRDs
// kubernetes-models does not carry.
const crdGroups = ["monitoring.coreos.com/v1", "keda.sh/v1alpha1"];
for (const doc of docs) {
  if (crdGroups.includes(doc.apiVersion)) continue;
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
const envNames = container.env.map((e) => e.name);
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
check(new Set(envNames).size === envNames.length, `no duplicate env names: ${envNames}`);
// Two Services: the app's without the admin port, and the admin one.
const services = byKind("Service");
const adminService = services.find((s) => s.spec.ports.some((p) => p.name === "admin"));
const appService = services.find((s) => s !== adminService);
check(services.length === 2, `two Services, got ${services.length}`);
check(appService && appService.spec.ports.every((p) => p.targetPort !== "admin" && p.port !== 9901),
  "the app Service does not expose the admin port");
check(adminService?.spec.type === "ClusterIP" && adminService.spec.ports.length === 1,
  "the admin Service is ClusterIP with the admin port only");
check(adminService?.metadata.labels["app.kubernetes.io/component"] === "admin", "the admin Service is labelled component=admin");
const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
for (const s of services) {
  check(matches(s.spec.selector, deployment.spec.template.metadata.labels), `Service ${s.metadata.name} selects the pods`);
}
check(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels), "the Deployment selects its pods");
// The recommended labels on the pods.
const podLabels = deployment.spec.template.metadata.labels;
for (const l of ["name", "instance", "version", "component", "part-of", "managed-by"]) {
  check(podLabels[`app.kubernetes.io/${l}`], `pod label app.kubernetes.io/${l}`);
}
// A topology spread constraint always selects this release's pods.
for (const t of pod.topologySpreadConstraints || []) {
  check(t.labelSelector && (!t.labelSelector.matchLabels || matches(t.labelSelector.matchLabels, podLabels)),
    "every topology spread constraint selects the pods");
}
const hookPods = byKind("Pod").filter((p) => p.metadata.annotations?.["helm.sh/hook"] === "test");
check(hookPods.length === 1 && hookPods[0].spec.containers[0].args[0] === "healthcheck", "a helm test hook running healthcheck");
check(hookPods[0]?.spec.containers[0].args[1] === `http://${adminService?.metadata.name}:9901/readyz`, "the test hook checks the admin Service");

// 3. The case's own expectations.
const hpa = byKind("HorizontalPodAutoscaler");
const monitors = byKind("ServiceMonitor");
const rules = byKind("PrometheusRule");
const scaled = byKind("ScaledObject");
const dashboards = byKind("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard);
const annotations = deployment.spec.template.metadata.annotations || {};
const hpaMetric = (type) => hpa[0]?.spec.metrics.find((m) => m.type === type);
const expect = {
  defaults() {
    check(annotations["prometheus.io/scrape"] === "true" && annotations["prometheus.io/port"] === "9901" &&
      annotations["prometheus.io/path"] === "/metrics", "prometheus.io annotations by default");
    const spread = pod.topologySpreadConstraints || [];
    check(spread.length === 1 && spread[0].topologyKey === "kubernetes.io/hostname" &&
      spread[0].whenUnsatisfiable === "ScheduleAnyway" && spread[0].maxSkew === 1,
      "a soft spread across nodes by default");
    check(deployment.metadata.name === "rel-corral-shop" && podLabels["app.kubernetes.io/name"] === "corral-shop", "default names");
    check(!container.command && !container.args, "the image's entrypoint by default");
    check(!pod.imagePullSecrets && !pod.priorityClassName && !container.envFrom, "no pull secrets, priority class or envFrom by default");
    check(rules.length === 0 && dashboards.length === 0 && scaled.length === 0, "no rules, dashboard or ScaledObject by default");
    check(!("CORRAL_LOG_LEVEL" in env) && !("CORRAL_MAX_BODY" in env), "corral's own defaults for unset flags");
    check(env.CORRAL_WORKERS === "auto", `workers ${env.CORRAL_WORKERS}, want auto (corral follows the pod's CPUs)`);
    check(pod.terminationGracePeriodSeconds === 30, `grace ${pod.terminationGracePeriodSeconds}, want 5+20+5`);
    check(pod.volumes.find((v) => v.name === "tmp")?.emptyDir && !pod.volumes.find((v) => v.name === "tmp").emptyDir.sizeLimit &&
      container.volumeMounts.some((m) => m.name === "tmp" && m.mountPath === "/tmp"),
      "a writable emptyDir at /tmp by default (the root filesystem is read-only)");
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
    check(hpaMetric("Resource")?.resource.target.averageUtilization === 70 && !hpaMetric("Pods"), "CPU only by default");
    check(!hpa[0]?.spec.behavior, "no behavior unless set");
  },
  "in-flight"() {
    check(hpa.length === 1 && hpa[0].spec.metrics.length === 1, "one metric");
    const m = hpaMetric("Pods");
    check(m?.pods.metric.name === "http_server_active_requests" && m.pods.target.type === "AverageValue" &&
      m.pods.target.averageValue === "8", "a Pods metric: 8 requests in flight per pod");
    check(hpa[0]?.spec.behavior?.scaleDown?.stabilizationWindowSeconds === 600, "behavior passed through");
  },
  "in-flight-and-cpu"() {
    check(hpaMetric("Pods")?.pods.target.averageValue === "12.5" && hpaMetric("Resource")?.resource.target.averageUtilization === 80,
      "in flight and CPU side by side");
  },
  keda() {
    check(scaled.length === 1 && hpa.length === 0, "a ScaledObject and no chart HPA");
    check(!("replicas" in deployment.spec), "no replicas when KEDA scales");
    const s = scaled[0]?.spec;
    check(s?.scaleTargetRef.name === deployment.metadata.name, "the ScaledObject targets the Deployment");
    check(s?.minReplicaCount === 2 && s?.maxReplicaCount === 10, "min and max replicas");
    const t = s?.triggers[0];
    check(t?.type === "prometheus" && t.metadata.threshold === "8" && t.metadata.serverAddress.startsWith("http"),
      "a Prometheus trigger");
    check(t?.metadata.query === 'sum(http_server_active_requests{namespace="default", job="rel-corral-shop-admin"})',
      `the query sums this release's in-flight requests: ${t?.metadata.query}`);
  },
  "monitoring-crd"() {
    check(monitors.length === 1, "a ServiceMonitor when enabled and the CRD exists");
    check(monitors[0]?.spec.endpoints[0].port === "admin" && monitors[0]?.spec.endpoints[0].path === "/metrics", "it scrapes admin /metrics");
    const sel = monitors[0]?.spec.selector.matchLabels || {};
    check(matches(sel, adminService?.metadata.labels) && !matches(sel, appService?.metadata.labels),
      "the ServiceMonitor selects the admin Service and not the app's");
    check(!("prometheus.io/scrape" in annotations), "no prometheus.io annotations when switched off");
  },
  "rules-crd"() {
    check(rules.length === 1, "a PrometheusRule when enabled and the CRD exists");
    const alerts = (rules[0]?.spec.groups || []).flatMap((g) => g.rules.map((r) => r.alert));
    for (const a of ["CorralWorkersCrashing", "CorralRollFailed", "CorralConfigReloadFailed", "CorralHighErrorRatio",
      "CorralHighLatencyP99", "CorralDrainStuck", "CorralWorkersMissing"]) {
      check(alerts.includes(a), `alert ${a}`);
    }
  },
  "rules-no-crd"() {
    check(rules.length === 0, "no PrometheusRule without the CRD");
  },
  dashboard() {
    check(dashboards.length === 1 && dashboards[0].metadata.labels.grafana_dashboard === "1", "a ConfigMap with grafana_dashboard: \"1\"");
    check(dashboards[0]?.metadata.annotations?.grafana_folder === "corral", "dashboard annotations passed through");
    let d = {};
    try { d = JSON.parse(Object.values(dashboards[0]?.data || {})[0]); } catch (e) { check(false, `dashboard JSON: ${e.message}`); }
    const vars = new Set((d.templating?.list || []).map((v) => v.name));
    check(d.panels?.length >= 10, `panels: ${d.panels?.length}`);
    for (const p of d.panels || []) {
      check(p.targets?.length > 0 && p.targets.every((t) => t.expr), `panel "${p.title}" has queries`);
      check(p.datasource?.uid === "${datasource}", `panel "${p.title}" uses the datasource variable`);
      for (const t of p.targets || []) {
        for (const [, v] of t.expr.matchAll(/\$\{?(\w+)/g)) {
          check(v.startsWith("__") || vars.has(v), `panel "${p.title}": unknown variable ${v}`);
        }
        check(!/\b(method|status_code|route)=/.test(t.expr) && !t.expr.includes("http_server_requests_total"),
          `panel "${p.title}" uses the OpenTelemetry label names`);
      }
    }
    const exprs = (d.panels || []).flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const m of ["http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket",
      "http_server_active_requests", "corral_worker_active_requests", "corral_worker_connections", "corral_workers",
      "corral_rollouts_total", "corral_config_generation", "corral_app_concurrency_limit",
      "corral_app_active_requests", "corral_proxy_shed_total", "corral_proxy_admitted_total",
      "corral_proxy_queue_wait_seconds_bucket"]) {
      check(exprs.includes(m), `the dashboard shows ${m}`);
    }
    check(exprs.includes("sum by (le, class) (rate(corral_proxy_queue_wait_seconds_bucket"),
      "the dashboard shows the queue wait by class");
  },
  "no-tmp"() {
    check(!pod.volumes.some((v) => v.name === "tmp") && !container.volumeMounts.some((m) => m.mountPath === "/tmp"), "no /tmp volume when disabled");
  },
  "any-app"() {
    check(JSON.stringify(container.command) === '["/opt/corral/bin/corral","--"]' && JSON.stringify(container.args) === '["node","server.js"]', "corral runs the app's command");
    const want = { CORRAL_READY: "pipe", CORRAL_READY_AFTER: "2s", CORRAL_STOP_SIGNAL: "QUIT",
      CORRAL_CONFIG_CHECK: 'test -r "$CORRAL_CONFIG_DIR/banner"', CORRAL_ACCESS_LOG: "true", CORRAL_LISTEN: "0.0.0.0:8080" };
    for (const [k, v] of Object.entries(want)) check(env[k] === v, `${k}=${env[k]}, want ${v}`);
  },
  proxy() {
    const want = { CORRAL_PROXY: "true", CORRAL_PROXY_WORKERS: "2", CORRAL_APP_CONCURRENCY: "8",
      CORRAL_MAX_QUEUE: "500", CORRAL_QUEUE_TIMEOUT: "2s", CORRAL_UPSTREAM_TIMEOUT: "30s",
      CORRAL_ROUTES: "/products/{id},/checkout", CORRAL_LISTEN: "0.0.0.0:8080",
      CORRAL_WEBSOCKET_DRAIN: "10s", CORRAL_APP_SOCKET_DIR: "/tmp" };
    for (const [k, v] of Object.entries(want)) check(env[k] === v, `${k}=${env[k]}, want ${v}`);
  },
  "all-options"() {
    check(deployment.metadata.name === "store" && adminService?.metadata.name === "store-admin", "fullnameOverride");
    check(container.image === "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image by digest");
    check(JSON.stringify(pod.imagePullSecrets) === '[{"name":"regcred"}]', "imagePullSecrets");
    check(JSON.stringify(container.command) === '["/usr/local/bin/corral-shop"]' && JSON.stringify(container.args) === '["--log-level=warn"]', "command and args");
    check(env.CORRAL_WORKERS === "auto", "workers auto");
    const want = { CORRAL_WORKER_START_TIMEOUT: "45s", CORRAL_WORKER_TIMEOUT: "20", CORRAL_KEEPALIVE_TIMEOUT: "1m30s",
      CORRAL_REQUEST_TIMEOUT: "250ms", CORRAL_MAX_BODY: "1048576", CORRAL_CRASH_LOOP_LIMIT: "7", CORRAL_LOG_LEVEL: "debug",
      CORRAL_LISTEN: "[::]:8080", CORRAL_ADMIN: "[::]:9901", CORRAL_MEMORY_GUARD: "0.9",
      CORRAL_MAX_WORKER_MEMORY: "512Mi", CORRAL_MAX_REQUESTS: "10000", CORRAL_MAX_REQUESTS_JITTER: "500",
      CORRAL_MAX_WORKER_AGE: "6h", CORRAL_MAX_WORKER_AGE_JITTER: "30m" };
    for (const [k, v] of Object.entries(want)) check(env[k] === v, `${k}=${env[k]}, want ${v}`);
    check(env.FOO === "bar" && container.env.find((e) => e.name === "DB")?.valueFrom?.secretKeyRef?.key === "url", "extraEnvVars");
    check(envNames.indexOf("FOO") > envNames.indexOf("CORRAL_LISTEN"), "extra env after corral's");
    check(JSON.stringify(container.envFrom) === '[{"configMapRef":{"name":"app-env"}},{"secretRef":{"name":"app-secrets"}}]', "envFrom ConfigMap and Secret");
    check(pod.volumes.some((v) => v.name === "certs" && v.secret) && container.volumeMounts.some((m) => m.name === "certs" && m.mountPath === "/certs"), "extra volume and mount");
    check(pod.volumes.find((v) => v.name === "tmp")?.emptyDir?.sizeLimit === "1Gi", "tmpVolume.sizeLimit");
    check(podLabels.team === "payments" && annotations["example.com/owner"] === "payments", "podLabels and podAnnotations");
    check(!("prometheus.io/scrape" in annotations), "prometheus.io annotations switched off");
    check(pod.priorityClassName === "high", "priorityClassName");
    check(pod.nodeSelector?.["kubernetes.io/arch"] === "amd64" && pod.tolerations?.[0]?.key === "dedicated" && pod.affinity?.nodeAffinity, "nodeSelector, tolerations, affinity");
    check(pod.topologySpreadConstraints?.length === 2 && pod.topologySpreadConstraints[1].topologyKey === "topology.kubernetes.io/zone" &&
      pod.topologySpreadConstraints[1].labelSelector.matchLabels.tier === "web", "custom spread constraints, own labelSelector kept");
    check(hookPods[0]?.spec.imagePullSecrets?.[0]?.name === "regcred", "the test hook can pull the image too");
    check(env.CORRAL_CONFIG_DIR === "/config", "configMountPath");
  },
  "name-override"() {
    check(deployment.metadata.name === "rel-web" && podLabels["app.kubernetes.io/name"] === "web" && container.name === "web", "nameOverride");
    check(podLabels["app.kubernetes.io/part-of"] === "shop", "partOf");
  },
  "monitoring-no-crd"() {
    check(monitors.length === 0, "no ServiceMonitor without the CRD");
  },
  "cpu-none"() {
    check(env.CORRAL_WORKERS === "auto", `workers ${env.CORRAL_WORKERS}, want auto (corral counts the request)`);
    check(!container.resources?.limits?.cpu, "no CPU limit rendered");
  },
  "workers-pinned"() {
    check(env.CORRAL_WORKERS === "3", `workers ${env.CORRAL_WORKERS}, want 3`);
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
