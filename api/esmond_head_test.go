package api

import (
	"net/http"
	"testing"
)

// TestEsmondHead: every read of esmond answers HEAD as its GET (Django
// views do), rather than 405: monitoring probes check the archive so.
func TestEsmondHead(t *testing.T) {
	e, key := dataEnv(t)
	for _, p := range []string{"/esmond/perfsonar/", "/esmond/perfsonar/archive/", "/esmond/perfsonar/archive",
		"/perfsonar/archive/" + key + "/", "/esmond/perfsonar/archive/" + key + "/throughput/",
		"/esmond/perfsonar/archive/" + key + "/throughput/base", "/esmond/perfsonar/archive/" + key + "/throughput/averages",
		"/esmond/perfsonar/archive/" + key + "/throughput/averages/86400/"} {
		w := e.do(http.MethodHead, p, "")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("HEAD %s: %d %q", p, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := e.do(http.MethodHead, "/esmond/perfsonar/archive/"+key+"/nosuch/base", ""); w.Code != http.StatusBadRequest {
		t.Errorf("HEAD of an unknown event type: %d", w.Code)
	}
}
