package main

import "k8s.io/apimachinery/pkg/util/validation"

func isDNSLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

func isDNSName(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }
