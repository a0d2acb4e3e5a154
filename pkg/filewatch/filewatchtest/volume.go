// Package filewatchtest lays out directories as the kubelet lays out
// Secret and ConfigMap volumes, for tests of code that watches them.
package filewatchtest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Volume is a directory laid out as the kubelet's atomic writer lays out
// a Secret or ConfigMap volume: each version of the data in its own
// `..<timestamp>` directory, `..data` a symlink to the current one, and
// each key a symlink to `..data/<key>`.
type Volume struct {
	t   testing.TB
	Dir string
	cur string // current ..<timestamp> directory name
}

// NewVolume makes a volume in a new temporary directory with data.
func NewVolume(t testing.TB, data map[string][]byte) *Volume {
	t.Helper()
	return NewVolumeIn(t, t.TempDir(), data)
}

// NewVolumeIn makes a volume in dir, which exists, with data.
func NewVolumeIn(t testing.TB, dir string, data map[string][]byte) *Volume {
	t.Helper()
	v := &Volume{t: t, Dir: dir}
	v.Update(data)
	return v
}

// Update writes a new version as the atomic writer does: a new
// timestamped directory, a `..data_tmp` symlink to it renamed over
// `..data`, symlinks for new keys, and the previous directory removed.
func (v *Volume) Update(data map[string][]byte) {
	t := v.t
	t.Helper()
	ts, err := os.MkdirTemp(v.Dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, val := range data {
		if err := os.WriteFile(filepath.Join(ts, k), val, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(v.Dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.Dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for k := range data {
		link := filepath.Join(v.Dir, k)
		if _, err := os.Lstat(link); errors.Is(err, fs.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", k), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v.cur != "" {
		if err := os.RemoveAll(filepath.Join(v.Dir, v.cur)); err != nil {
			t.Fatal(err)
		}
	}
	v.cur = filepath.Base(ts)
}

// Path is the path a container sees for key.
func (v *Volume) Path(key string) string { return filepath.Join(v.Dir, key) }
