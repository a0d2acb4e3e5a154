package plan

import (
	"reflect"
	"testing"
)

func TestResolvers(t *testing.T) {
	conf := []byte("search x\nnameserver 10.96.0.10\nnameserver fd00::a\nnameserver fe80::1%eth0\nnameserver bogus\n")
	if got := Resolvers(conf); !reflect.DeepEqual(got, []string{"10.96.0.10", "[fd00::a]"}) {
		t.Errorf("Resolvers = %v", got)
	}
	if got := Resolvers(nil); got != nil {
		t.Errorf("no file: %v", got)
	}
}

func TestParseResolver(t *testing.T) {
	for in, want := range map[string]string{
		"10.96.0.10":         "10.96.0.10",
		"127.0.0.1:5353":     "127.0.0.1:5353",
		"fd00::a":            "[fd00::a]",
		"[fd00::a]:53":       "[fd00::a]:53",
		"::ffff:10.0.0.1":    "10.0.0.1",
		"":                   "",
		"dns.example":        "",
		"10.0.0.1:0":         "",
		"10.0.0.1:70000":     "",
		"fe80::1%eth0":       "",
		"10.0.0.1; ipv6=off": "",
	} {
		got, err := ParseResolver(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseResolver(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
