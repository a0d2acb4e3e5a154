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
