{{/* The chart's name, or nameOverride. */}}
{{- define "corral-shop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names: fullnameOverride, else release-name (once). */}}
{{- define "corral-shop.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "corral-shop.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The admin Service's name: probes, /status and /metrics. */}}
{{- define "corral-shop.adminName" -}}
{{- printf "%s-admin" (include "corral-shop.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}

{{/* The recommended app.kubernetes.io labels, on every object and pod. */}}
{{- define "corral-shop.commonLabels" -}}
{{ include "corral-shop.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: {{ .Values.partOf | default (include "corral-shop.name" .) }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "corral-shop.labels" -}}
{{ include "corral-shop.commonLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{/* The admin Service's labels: the ServiceMonitor selects on component. */}}
{{- define "corral-shop.adminLabels" -}}
{{ include "corral-shop.commonLabels" . }}
app.kubernetes.io/component: admin
{{- end -}}

{{- define "corral-shop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "corral-shop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "corral-shop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "corral-shop.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* image: repository:tag, or repository@digest when a digest is given. */}}
{{- define "corral-shop.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The CPU limit as given, or "" when there is none. */}}
{{- define "corral-shop.cpuLimit" -}}
{{- $limits := (.Values.resources | default dict).limits | default dict -}}
{{- if hasKey $limits "cpu" -}}{{ toString $limits.cpu }}{{- end -}}
{{- end -}}

{{/* Workers per pod: a number pins it; "auto" or empty lets corral count the
     pod's CPUs (cgroup limit, else request, capped by affinity) and follow
     an in-place resize. */}}
{{- define "corral-shop.workers" -}}
{{- if and .Values.workers (ne (toString .Values.workers) "auto") -}}
{{- .Values.workers | int -}}
{{- else -}}auto{{- end -}}
{{- end -}}

{{- define "corral-shop.gracePeriod" -}}
{{- add .Values.drainDelaySeconds .Values.drainTimeoutSeconds .Values.graceMarginSeconds -}}
{{- end -}}

{{/* The PromQL matcher that picks this release's series (alerts, KEDA). */}}
{{- define "corral-shop.promSelector" -}}
{{- if .Values.metrics.selector -}}
{{- .Values.metrics.selector -}}
{{- else -}}
{{- printf "namespace=%q, job=%q" .Release.Namespace (include "corral-shop.adminName" .) -}}
{{- end -}}
{{- end -}}
