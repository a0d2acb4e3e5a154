{{/* The chart's name, or nameOverride. */}}
{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: fullnameOverride, else the release name when it
contains the chart's name, else both joined. */}}
{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "portico.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "portico.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/* The controller's Deployment, Service and ConfigMap name. */}}
{{- define "portico.controller.fullname" -}}
{{- printf "%s-%s" (include "portico.fullname" .) .Values.controller.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portico.electionID" -}}
{{- default (printf "%s-leader" (include "portico.fullname" .)) .Values.controller.electionID -}}
{{- end -}}

{{- define "portico.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The webhook configuration's and its certificate Secret's name. */}}
{{- define "portico.admission.fullname" -}}
{{- printf "%s-admission" (include "portico.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portico.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "portico.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: portico
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The controller's image reference. */}}
{{- define "portico.image" -}}
{{- $i := .Values.controller.image -}}
{{- $ref := $i.repository -}}
{{- if not $ref -}}
{{- $ref = $i.registry | empty | ternary $i.image (printf "%s/%s" $i.registry $i.image) -}}
{{- end -}}
{{- printf "%s:%s" $ref (default .Chart.AppVersion $i.tag) -}}
{{- with $i.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{/* The controller's arguments, as ingress-nginx's flags. */}}
{{- define "portico.args" -}}
{{- $c := .Values.controller -}}
- controller
{{- if and $c.publishService.enabled $c.service.enabled }}
- --publish-service={{ default (printf "$(POD_NAMESPACE)/%s" (include "portico.controller.fullname" .)) $c.publishService.pathOverride }}
{{- end }}
- --election-id={{ include "portico.electionID" . }}
- --controller-class={{ $c.ingressClassResource.controllerValue }}
{{- with $c.ingressClass }}
- --ingress-class={{ . }}
{{- end }}
- --configmap=$(POD_NAMESPACE)/{{ include "portico.controller.fullname" . }}
{{- if .Values.tcp }}
- --tcp-services-configmap=$(POD_NAMESPACE)/{{ include "portico.fullname" . }}-tcp
{{- end }}
{{- if .Values.udp }}
- --udp-services-configmap=$(POD_NAMESPACE)/{{ include "portico.fullname" . }}-udp
{{- end }}
{{- if $c.scope.enabled }}
- --watch-namespace={{ default "$(POD_NAMESPACE)" $c.scope.namespace }}
{{- else if $c.scope.namespaceSelector }}
- --watch-namespace-selector={{ $c.scope.namespaceSelector }}
{{- end }}
{{- if $c.admissionWebhooks.enabled }}
- --validating-webhook=:{{ $c.admissionWebhooks.port }}
- --validating-webhook-certificate={{ $c.admissionWebhooks.certificate }}
- --validating-webhook-key={{ $c.admissionWebhooks.key }}
{{- end }}
{{- with $c.healthCheckHost }}
- --healthz-host={{ . }}
{{- end }}
{{- if ne $c.healthCheckPath "/healthz" }}
- --health-check-path={{ $c.healthCheckPath }}
{{- end }}
{{- if $c.ingressClassByName }}
- --ingress-class-by-name=true
{{- end }}
{{- if $c.watchIngressWithoutClass }}
- --watch-ingress-without-class=true
{{- end }}
{{- if $c.metrics.enabled }}
- --enable-metrics=true
{{- end }}
{{- if $c.reportNodeInternalIp }}
- --report-node-internal-ip-address=true
{{- end }}
{{- if $c.enableTopologyAwareRouting }}
- --enable-topology-aware-routing=true
{{- end }}
{{- if $c.disableLeaderElection }}
- --disable-leader-election=true
{{- end }}
{{- with $c.electionTTL }}
- --election-ttl={{ . }}
{{- end }}
{{- range $name, $value := $c.extraArgs }}
{{- if or (kindIs "invalid" $value) (eq (toString $value) "") }}
- --{{ $name }}
{{- else }}
- --{{ $name }}={{ $value }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The container's securityContext. */}}
{{- define "portico.containerSecurityContext" -}}
{{- if .Values.controller.containerSecurityContext -}}
{{- toYaml .Values.controller.containerSecurityContext -}}
{{- else -}}
{{- $i := .Values.controller.image -}}
runAsNonRoot: {{ $i.runAsNonRoot }}
runAsUser: {{ $i.runAsUser }}
runAsGroup: {{ $i.runAsGroup }}
allowPrivilegeEscalation: {{ $i.allowPrivilegeEscalation }}
readOnlyRootFilesystem: {{ $i.readOnlyRootFilesystem }}
{{- with $i.seccompProfile }}
seccompProfile:
  {{- toYaml . | nindent 2 }}
{{- end }}
capabilities:
  drop: [ALL]
  add: [NET_BIND_SERVICE]
{{- end -}}
{{- end -}}
