{{- define "corral-shop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "corral-shop.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "corral-shop.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "corral-shop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "corral-shop.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The CPU limit as given, or "" when there is none. */}}
{{- define "corral-shop.cpuLimit" -}}
{{- $limits := (.Values.resources | default dict).limits | default dict -}}
{{- if hasKey $limits "cpu" -}}{{ toString $limits.cpu }}{{- end -}}
{{- end -}}

{{/* Workers per pod: the value, else ceil(CPU limit), else the default. */}}
{{- define "corral-shop.workers" -}}
{{- $cpu := include "corral-shop.cpuLimit" . -}}
{{- if .Values.workers -}}
{{- .Values.workers | int -}}
{{- else if eq $cpu "" -}}
{{- .Values.defaultWorkers | int -}}
{{- else if hasSuffix "m" $cpu -}}
{{- max 1 (div (add (trimSuffix "m" $cpu | int) 999) 1000) -}}
{{- else -}}
{{- max 1 (ceil (float64 $cpu) | int) -}}
{{- end -}}
{{- end -}}

{{- define "corral-shop.gracePeriod" -}}
{{- add .Values.drainDelaySeconds .Values.drainTimeoutSeconds .Values.graceMarginSeconds -}}
{{- end -}}
