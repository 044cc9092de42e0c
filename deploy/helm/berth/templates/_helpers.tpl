{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
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

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The host of externalURL (no scheme, port or path). */}}
{{- define "berth.externalHost" -}}
{{- (urlParse .Values.externalURL).hostname -}}
{{- end -}}

{{- define "berth.internalDatabase" -}}
{{- if eq .Values.database.type "internal" -}}true{{- end -}}
{{- end -}}

{{/* SQLite allows one process: the internal database forces one replica. */}}
{{- define "berth.replicas" -}}
{{- if include "berth.internalDatabase" . -}}1{{- else -}}{{ .Values.replicas }}{{- end -}}
{{- end -}}

{{/* Berth serves TLS itself when it is not behind an ingress. */}}
{{- define "berth.selfTLS" -}}
{{- if and .Values.expose.tls.enabled (ne .Values.expose.type "ingress") -}}true{{- end -}}
{{- end -}}

{{- define "berth.tlsSecretName" -}}
{{- if eq .Values.expose.tls.certSource "secret" -}}
{{- required "expose.tls.secret.secretName is required with certSource secret" .Values.expose.tls.secret.secretName -}}
{{- else -}}
{{- printf "%s-tls" (include "berth.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "berth.serviceName" -}}
{{- $svc := index .Values.expose (ternary "clusterIP" .Values.expose.type (eq .Values.expose.type "ingress")) -}}
{{- default (include "berth.fullname" .) $svc.name -}}
{{- end -}}

{{- define "berth.s3" -}}
{{- if eq .Values.persistence.imageChartStorage.type "s3" -}}true{{- end -}}
{{- end -}}

{{/* The PostgreSQL URL from its parts, the password URL-escaped. */}}
{{- define "berth.databaseURL" -}}
{{- $e := .Values.database.external -}}
{{- if $e.url -}}
{{- $e.url -}}
{{- else -}}
{{- printf "postgres://%s:%s@%s:%v/%s?sslmode=%s" (urlquery (required "database.external.username is required" $e.username)) (urlquery $e.password) (required "database.external.host (or url, or existingSecret) is required with database.type external" $e.host) $e.port $e.coreDatabase $e.sslmode -}}
{{- end -}}
{{- end -}}

{{/* Checks that fail the render with a clear message instead of a pod that cannot start. */}}
{{- define "berth.validate" -}}
{{- if not (has .Values.expose.type (list "ingress" "clusterIP" "nodePort" "loadBalancer")) -}}
{{- fail (printf "expose.type must be ingress, clusterIP, nodePort or loadBalancer (got %q)" .Values.expose.type) -}}
{{- end -}}
{{- if not (has .Values.expose.tls.certSource (list "auto" "secret" "none")) -}}
{{- fail "expose.tls.certSource must be auto, secret or none" -}}
{{- end -}}
{{- if and (include "berth.selfTLS" .) (eq .Values.expose.tls.certSource "none") -}}
{{- fail "expose.tls.certSource none needs expose.type ingress (Berth serving TLS itself needs a certificate)" -}}
{{- end -}}
{{- if not (has .Values.database.type (list "internal" "external")) -}}
{{- fail "database.type must be internal or external" -}}
{{- end -}}
{{- if not (has .Values.persistence.imageChartStorage.type (list "filesystem" "s3")) -}}
{{- fail "persistence.imageChartStorage.type must be filesystem or s3" -}}
{{- end -}}
{{- if and (include "berth.s3" .) (not .Values.persistence.imageChartStorage.s3.bucket) -}}
{{- fail "persistence.imageChartStorage.s3.bucket is required with type s3" -}}
{{- end -}}
{{- if and (gt (int (include "berth.replicas" .)) 1) (not (include "berth.s3" .)) .Values.persistence.enabled (ne .Values.persistence.persistentVolumeClaim.registry.accessMode "ReadWriteMany") -}}
{{- fail "several replicas with filesystem storage share one volume: set persistence.persistentVolumeClaim.registry.accessMode to ReadWriteMany, or use S3" -}}
{{- end -}}
{{- end -}}
