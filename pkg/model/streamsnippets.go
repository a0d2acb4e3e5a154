package model

import "github.com/portico-ingress/portico/pkg/model/annotations"

// StreamSnippet is an Ingress's stream-snippet: raw configuration of
// nginx's stream block, which the operator allowed
// (allow-snippet-annotations, annotations-risk-level Critical) and nginx's
// tokenizer keeps inside that block. nginx -t judges the rest (a port
// another server listens on): the controller then holds back the Ingress
// it came from, which Ingress names.
type StreamSnippet struct {
	Ingress IngressRef          `json:"ingress"`
	Snippet annotations.Snippet `json:"snippet"`
}

// addStreamSnippet keeps the stream-snippet of a served Ingress.
func (b *builder) addStreamSnippet(ref IngressRef, sn annotations.Snippet) {
	if sn != "" {
		b.cfg.StreamSnippets = append(b.cfg.StreamSnippets, StreamSnippet{Ingress: ref, Snippet: sn})
	}
}
