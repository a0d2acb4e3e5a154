package apply

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// AuthFiles keeps files nginx reads at request time in Dir: the htpasswd
// files of basic auth, the peer files of the stream context. nginx reads
// them in its workers, which run unprivileged (nobody), so content
// changes need no reload. Files are 0640 and group-owned by the
// worker user's group (nobody's primary group, nogroup on Debian) when the
// controller may chown; otherwise 0644. Dir is 0750 with the same group.
type AuthFiles struct {
	Dir string
	// WorkerUser is the nginx worker user; "" means nobody.
	WorkerUser string
	// Owned, when set, records each file written.
	Owned *OwnedFiles
}

// gid returns the group nginx workers run with, or -1.
func (f *AuthFiles) gid() int {
	name := f.WorkerUser
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return -1
	}
	g, err := strconv.Atoi(u.Gid)
	if err != nil {
		return -1
	}
	return g
}

// Write writes each file whose content differs from what is on disk.
// Names are file names chosen by the model (no path separators).
func (f *AuthFiles) Write(files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	gid := f.gid()
	if err := os.MkdirAll(f.Dir, 0o750); err != nil {
		return err
	}
	dirMode, fileMode := os.FileMode(0o750), os.FileMode(0o640)
	if gid < 0 || os.Chown(f.Dir, -1, gid) != nil {
		dirMode, fileMode = 0o755, 0o644
	}
	if err := os.Chmod(f.Dir, dirMode); err != nil {
		return err
	}
	var errs []error
	for name, content := range files {
		if name == "" || strings.ContainsAny(name, "/\\") || name[0] == '.' {
			errs = append(errs, fmt.Errorf("auth file name %q is not a plain file name", name))
			continue
		}
		path := filepath.Join(f.Dir, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, content) {
			_ = f.Owned.write(path, content, nil)
			continue
		}
		tmp := path + ".tmp"
		_ = os.Remove(tmp)
		if err := os.WriteFile(tmp, content, fileMode); err != nil {
			errs = append(errs, err)
			continue
		}
		if fileMode == 0o640 {
			if err := os.Chown(tmp, -1, gid); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := os.Chmod(tmp, fileMode); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := f.Owned.write(path, content, func() error { return renameSync(tmp, path) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Prune removes files of Dir not in files.
func (f *AuthFiles) Prune(files map[string][]byte) error {
	ents, err := os.ReadDir(f.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if _, keep := files[e.Name()]; !keep {
			path := filepath.Join(f.Dir, e.Name())
			errs = append(errs, f.Owned.forget(path, func() error { return os.Remove(path) }))
		}
	}
	return errors.Join(errs...)
}
