package statusport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Push returns the generation nginx answers and the items it refused; a
// patch on a stale base is ErrStaleBase, other refusals carry nginx's
// answer.
func TestPush(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("base") {
		case "":
			w.Header().Set("X-Portico-Generation", "7")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"refused":{"ns/b:80":"endpoint 1 needs an address"}}`))
		case "6":
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte("at generation 7\n"))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("route 1 needs a path\n"))
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", time.Second)
	ctx := context.Background()
	if p, err := c.Push(ctx, "/configuration/routes", []byte(`{}`), ""); p.Generation != "7" || p.Refused["ns/b:80"] == "" || err != nil {
		t.Errorf("push = %+v, %v; want generation 7 and the refused item", p, err)
	}
	if _, err := c.Push(ctx, "/configuration/routes", []byte(`{}`), "6"); !errors.Is(err, ErrStaleBase) {
		t.Errorf("patch on a stale base: %v, want ErrStaleBase", err)
	}
	if _, err := c.Push(ctx, "/configuration/routes", []byte(`{}`), "9"); err == nil || !strings.Contains(err.Error(), "400 Bad Request: route 1 needs a path") {
		t.Errorf("refused push: %v, want nginx's answer", err)
	}
	if _, err := c.Get(ctx, "/nowhere"); err == nil || !strings.Contains(err.Error(), srv.URL+"/nowhere") {
		t.Errorf("GET of a refused path: %v, want the URL named", err)
	}
}
