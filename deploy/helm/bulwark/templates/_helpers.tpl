{{/* Names, labels and the image reference shared by every template. */}}

{{- define "bulwark.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bulwark.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "bulwark.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels; call with (dict "ctx" $ "component" "server") */}}
{{- define "bulwark.labels" -}}
helm.sh/chart: {{ include "bulwark.chart" .ctx }}
{{ include "bulwark.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: bulwark
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "bulwark.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bulwark.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "bulwark.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "bulwark.secretKeySecret" -}}
{{- default (printf "%s-secret-key" (include "bulwark.fullname" .)) .Values.secretKey.existingSecret -}}
{{- end -}}

{{- define "bulwark.databaseSecret" -}}
{{- default (printf "%s-database" (include "bulwark.fullname" .)) .Values.server.database.existingSecret -}}
{{- end -}}

{{- define "bulwark.hasDatabase" -}}
{{- if or .Values.server.database.url .Values.server.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "bulwark.natsSecret" -}}
{{- default (printf "%s-nats" (include "bulwark.fullname" .)) .Values.nats.existingSecret -}}
{{- end -}}

{{- define "bulwark.hasNatsAuth" -}}
{{- if or .Values.nats.auth .Values.nats.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "bulwark.agentTokenSecret" -}}
{{- default (printf "%s-agent-token" (include "bulwark.fullname" .)) .Values.agent.token.existingSecret -}}
{{- end -}}

{{/* The console's in-cluster URL (agents' default --server). */}}
{{- define "bulwark.serverURL" -}}
{{- if .Values.agent.serverURL -}}
{{- .Values.agent.serverURL -}}
{{- else -}}
{{- printf "%s://%s-server.%s.svc:%v" (ternary "https" "http" .Values.server.tls.enabled) (include "bulwark.fullname" .) .Release.Namespace .Values.server.service.port -}}
{{- end -}}
{{- end -}}

{{/* The restricted container securityContext of the console and the webhook. */}}
{{- define "bulwark.restrictedContainerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "bulwark.restrictedPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}
