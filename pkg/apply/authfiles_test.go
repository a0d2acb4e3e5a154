package apply

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAuthFilesWriteAndPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auth")
	f := &AuthFiles{Dir: dir}
	files := map[string][]byte{"web_users": []byte("alice:{SHA}x=\n"), "web_other": []byte("bob:{SHA}y=\n")}
	if err := f.Write(files); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s = %q, %v", name, got, err)
		}
		st, _ := os.Stat(filepath.Join(dir, name))
		if st.Mode().Perm()&0o002 != 0 || st.Mode().Perm()&0o040 == 0 {
			t.Errorf("%s mode %v: want group-readable, not world-writable", name, st.Mode())
		}
	}
	if os.Geteuid() == 0 {
		st, _ := os.Stat(filepath.Join(dir, "web_users"))
		if st.Mode().Perm() != 0o640 {
			t.Errorf("as root the file is %v, want 0640 (group of the nginx workers)", st.Mode().Perm())
		}
	}
	if err := f.Write(map[string][]byte{"../evil": []byte("x")}); err == nil {
		t.Error("a name with a path separator was written")
	}
	delete(files, "web_other")
	if err := f.Prune(files); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"web_users"}) {
		t.Errorf("after prune: %v", names)
	}
}

func TestSystemResolvers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("search x\nnameserver 10.96.0.10\nnameserver fd00::a\nnameserver fe80::1%eth0\nnameserver bogus\n"), 0o644)
	if got := SystemResolvers(p); !reflect.DeepEqual(got, []string{"10.96.0.10", "[fd00::a]"}) {
		t.Errorf("SystemResolvers = %v", got)
	}
	if got := SystemResolvers(filepath.Join(t.TempDir(), "none")); got != nil {
		t.Errorf("missing file: %v", got)
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
