#!/usr/bin/env bash
# Renders ingress-nginx's Helm chart with each values file of
# e2e/testdata/ingress-nginx-chart/values/ into
# e2e/testdata/ingress-nginx-chart/<name>.yaml, keeping the objects the
# controller runs with (RBAC, ConfigMaps, Services, the Deployment, the
# IngressClass, the ValidatingWebhookConfiguration) and leaving out the
# admission Jobs and their RBAC. e2e's TestIngressNginxChart reads them.
# Not part of make test: run it when the chart version changes.
#
#   hack/render-ingress-nginx-chart.sh HELM CHART_DIR
#
# CHART_DIR is charts/ingress-nginx of kubernetes/ingress-nginx at the
# chart's release tag (helm-chart-4.15.1 for the committed files).
set -euo pipefail
helm=${1:?helm binary}
chart=${2:?chart directory}
out=$(cd "$(dirname "$0")/../e2e/testdata/ingress-nginx-chart" && pwd)
version=$(sed -n 's/^version: //p' "$chart/Chart.yaml")
keep='clusterrole.yaml|clusterrolebinding.yaml|controller-role.yaml|controller-rolebinding.yaml|controller-serviceaccount.yaml|controller-configmap.yaml|controller-configmap-tcp.yaml|controller-configmap-udp.yaml|controller-service.yaml|controller-service-webhook.yaml|controller-service-metrics.yaml|controller-deployment.yaml|controller-ingressclass.yaml|admission-webhooks/validating-webhook.yaml|default-backend-service.yaml'
for values in "$out"/values/*.yaml; do
	name=$(basename "$values" .yaml)
	ns=chart-$name
	[ "$name" = default ] && ns=ingress-nginx
	{
		echo "# ingress-nginx's Helm chart $version (kubernetes/ingress-nginx, charts/ingress-nginx),"
		echo "# rendered by hack/render-ingress-nginx-chart.sh: helm template ingress-nginx"
		echo "# --namespace $ns -f values/$name.yaml; the controller's objects only."
		"$helm" template ingress-nginx "$chart" --namespace "$ns" --kube-version 1.37.2 -f "$values" |
			awk -v keep="^# Source: ingress-nginx/templates/($keep)\$" '
				/^---$/ { if (doc != "" && ok) printf "---\n%s", doc; doc = ""; ok = 0; next }
				$0 ~ keep { ok = 1 }
				{ doc = doc $0 "\n" }
				END { if (doc != "" && ok) printf "---\n%s", doc }'
	} >"$out/$name.yaml"
done
