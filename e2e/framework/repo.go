package framework

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// ModulePath is the Go module of the Portico repository.
const ModulePath = "github.com/portico-ingress/portico"

// RepoRoot returns the directory holding the go.mod of ModulePath, found by
// walking up from the working directory.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == ModulePath {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("find repository root: no go.mod of module %s in %s or above", ModulePath, wd)
		}
	}
}

// modulePath returns the path of a go.mod's module directive.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 2 && string(f[0]) == "module" {
			return string(bytes.Trim(f[1], `"`))
		}
	}
	return ""
}
