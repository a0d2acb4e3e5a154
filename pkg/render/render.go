package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"text/template"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/templates"
)

// Options are the controller's settings that appear in nginx.conf.
type Options struct {
	HTTPPort  int
	HTTPSPort int
	// DefaultCertificate and DefaultCertificateKey are the files of the
	// certificate served when no TLS host matches the SNI name.
	DefaultCertificate, DefaultCertificateKey string
	// StatusPort is the loopback port of the Lua configuration endpoint
	// and nginx's own health check.
	StatusPort int
	// RunDir holds the pid file and nginx's temporary files.
	RunDir string
	// LuaDir holds Portico's Lua modules (the portico/ package).
	LuaDir string
	// ModulesDir holds the nginx dynamic modules (ndk and lua).
	ModulesDir string
	// Resolvers are nameserver addresses (IPv6 in brackets) nginx uses
	// for auth-url host names; none means such URLs fail (500).
	Resolvers []string
}

var tmpl = template.Must(template.New("nginx.tmpl").Option("missingkey=error").ParseFS(templates.FS, "nginx.tmpl"))

// placeholder stands where the checksum goes while it is computed. It has
// braces, which no validated model string contains, so it is unique.
const placeholder = "{portico-checksum}"

// Render renders nginx.conf for cfg. The file carries its own checksum (a
// SHA-256 of the file with the checksum blanked), which nginx serves on the
// status port, so the controller can tell which config nginx runs.
func Render(cfg *model.Config, opts Options) (conf []byte, checksum string, err error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint(cfg))
	// Redirects name the HTTPS port unless it is the scheme's default.
	suffix := ""
	if opts.HTTPSPort != 443 {
		suffix = fmt.Sprintf(":%d", opts.HTTPSPort)
	}
	err = tmpl.Execute(&buf, struct {
		Config          *model.Config
		Options         Options
		Checksum        string
		HTTPSPortSuffix string
	}{cfg, opts, placeholder, suffix})
	if err != nil {
		return nil, "", fmt.Errorf("render nginx.conf: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	checksum = hex.EncodeToString(sum[:])
	lastSize.Store(int64(buf.Len()))
	return bytes.ReplaceAll(buf.Bytes(), []byte(placeholder), []byte(checksum)), checksum, nil
}
