package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// portico is the controller under test, run as its own process.
type portico struct {
	cmd         *exec.Cmd
	configDir   string
	httpPort    int
	httpsPort   int
	healthzPort int
	statusPort  int
	logPath     string
	exited      chan struct{}
	// healthPath is its --health-check-path; "" means /healthz.
	healthPath string
}

// startPortico builds nothing: the binary comes from buildPortico.
func startPortico(binary, kubeconfig, workDir string, extra ...string) (*portico, error) {
	return startPorticoEnv(binary, kubeconfig, workDir, nil, extra...)
}

// startPorticoEnv is startPortico with extra environment variables
// (POD_NAME, POD_NAMESPACE).
func startPorticoEnv(binary, kubeconfig, workDir string, environ []string, extra ...string) (*portico, error) {
	p := &portico{
		configDir:   filepath.Join(workDir, "nginx"),
		httpPort:    freePort(),
		httpsPort:   freePort(),
		healthzPort: freePort(),
		statusPort:  freePort(),
		logPath:     filepath.Join(workDir, "portico.log"),
		exited:      make(chan struct{}),
	}
	lua, err := filepath.Abs("../rootfs/etc/nginx/lua")
	if err != nil {
		return nil, err
	}
	args := append([]string{"controller",
		"--kubeconfig=" + kubeconfig,
		fmt.Sprintf("--http-port=%d", p.httpPort),
		fmt.Sprintf("--https-port=%d", p.httpsPort),
		fmt.Sprintf("--healthz-port=%d", p.healthzPort),
		fmt.Sprintf("--status-port=%d", p.statusPort),
		"--config-dir=" + p.configDir,
		"--lua-dir=" + lua,
		"--publish-status-address=127.0.0.1",
		"--configmap=" + configMapNamespace + "/" + configMapName,
		// The suite's controllers share the machine: no profiler on
		// ingress-nginx's fixed port, no wait after nginx stopped.
		"--profiling=false",
		"--post-shutdown-grace-period=0",
		"--enable-metrics=true",
		"--resolver=" + env.dns.addr(),
	}, extra...)
	if err := p.launch(binary, args, append(os.Environ(), environ...)); err != nil {
		return nil, err
	}
	return p, nil
}

// launch runs binary with args and the environment environ, and waits
// until its health check answers 200.
func (p *portico) launch(binary string, args, environ []string) error {
	// O_APPEND: nginx opens /dev/stdout again (a file description of its
	// own) for the access log; without it the controller's writes, at
	// their own offset, would overwrite its lines.
	logf, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.Env = environ
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _, err := p.healthz(); err == nil && code == 200 {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("portico exited at start:\n%s", p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("portico not healthy after 60s:\n%s", p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *portico) healthz() (int, string, error) {
	path := p.healthPath
	if path == "" {
		path = "/healthz"
	}
	return plainGet(fmt.Sprintf("http://127.0.0.1:%d%s", p.healthzPort, path))
}

// controllerStatus is the part of /status the tests read.
type controllerStatus struct {
	Synced bool `json:"synced"`
	Nginx  struct {
		Reloads        int    `json:"reloads"`
		ReloadFailures int    `json:"reloadFailures"`
		Restarts       int    `json:"restarts"`
		Pushes         int    `json:"pushes"`
		LastReason     string `json:"lastReloadReason"`
		Checksum       string `json:"checksum"`
	} `json:"nginx"`
}

func (p *portico) status() (controllerStatus, error) {
	var s controllerStatus
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/status", p.healthzPort))
	if err != nil {
		return s, err
	}
	if code != 200 {
		return s, fmt.Errorf("/status: %d", code)
	}
	return s, json.Unmarshal([]byte(body), &s)
}

// luaBackends is what GET /configuration/backends returns.
type luaBackends struct {
	Backends []luaBackend `json:"backends"`
}

// luaBackend is one backend the Lua balancer holds.
type luaBackend struct {
	Name        string `json:"name"`
	LoadBalance string `json:"loadBalance"`
	Endpoints   []struct {
		Address string `json:"address"`
		Port    int    `json:"port"`
	} `json:"endpoints"`
}

func (p *portico) luaBackends() (luaBackends, error) {
	var b luaBackends
	_, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/configuration/backends", p.statusPort))
	if err != nil {
		return b, err
	}
	return b, json.Unmarshal([]byte(body), &b)
}

// luaBackend is the backend name (namespace/service:port) as the Lua
// balancer holds it; an error when it holds none of that name.
func (p *portico) luaBackend(name string) (luaBackend, error) {
	bs, err := p.luaBackends()
	if err != nil {
		return luaBackend{}, err
	}
	for _, b := range bs.Backends {
		if b.Name == name {
			return b, nil
		}
	}
	return luaBackend{}, fmt.Errorf("backend %s not in Lua: %+v", name, bs)
}

func (p *portico) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *portico) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func plainGet(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := noProxyClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// noProxyClient never uses a proxy and never follows redirects.
var noProxyClient = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
