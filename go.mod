module github.com/portico-ingress/portico

go 1.26.0
