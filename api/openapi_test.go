package api

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/api/docs"
	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// The flag has its own name so it never collides with another golden test
// of this package.
var updateOpenAPI = flag.Bool("update-openapi", false, "rewrite testdata/openapi.golden.json from the document the router serves")

// undocumentedRoutes are registered routes that are not API operations:
// the static assets behind the documentation pages.
func undocumentedRoutes() map[string]string {
	m := map[string]string{
		"GET /docs/*any":                  "Swagger UI assets (index.html, bundle, css)",
		"GET /redoc/redoc.standalone.js":  "Redoc bundle",
		"HEAD /docs/*any":                 "Swagger UI assets, HEAD as GET",
		"HEAD /redoc/redoc.standalone.js": "Redoc bundle, HEAD as GET",
		"GET /dashboard/static/*file":     "dashboard scripts, styles and vendored uPlot",
	}
	// The esmond paths' refusals of the methods they do not serve (405,
	// PATCH 400), registered so that gin never redirects them.
	allowed := map[string][]string{}
	esmondRoutes(esmondRoot, func(method, path string, _ bool, _ gin.HandlerFunc) {
		allowed[path] = append(allowed[path], method)
		if method == http.MethodGet {
			m["HEAD "+path] = "esmond: HEAD as GET"
		}
	}, &Server{})
	for path, methods := range allowed {
		for _, m2 := range esmondUnserved(methods) {
			m[m2+" "+path] = "esmond: method refused"
		}
	}
	// The same API under /perfsonar/ (esmond without its script alias).
	esmondRoutes(esmondBareRoot, func(method, path string, _ bool, _ gin.HandlerFunc) {
		for _, m2 := range append(esmondMethods(), http.MethodHead) {
			m[m2+" "+path] = "esmond: the /esmond/perfsonar/ route without the script alias"
		}
	}, &Server{})
	return m
}

// docServer builds the full router, monitor and esmond routes included.
func docServer(t *testing.T) *Server {
	t.Helper()
	return New(Deps{Monitor: &monitor.Monitor{}, Archive: (*archive.Store)(nil), TCPEcho: (*tcpecho.Server)(nil)})
}

type openAPIDoc struct {
	Swagger string                                `json:"swagger"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func parseDoc(t *testing.T) openAPIDoc {
	t.Helper()
	var d openAPIDoc
	if err := json.Unmarshal([]byte(docs.JSON()), &d); err != nil {
		t.Fatalf("api/docs/swagger.json: %v", err)
	}
	return d
}

// ginToOpenAPI turns /pingapi/:target into /pingapi/{target} and
// /x/*rest into /x/{rest}.
func ginToOpenAPI(p string) string {
	return regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`).ReplaceAllString(p, "{$1}")
}

// TestOpenAPICoverage: every route registered on the gin engine is in the
// OpenAPI document with its method, and every operation in the document is
// a registered route. A failure here means a handler lacks swag
// annotations (or the document is stale): annotate, then `make docs`.
func TestOpenAPICoverage(t *testing.T) {
	doc := parseDoc(t)
	registered := map[string]bool{}
	skip := undocumentedRoutes()
	for _, r := range docServer(t).router.Routes() {
		key := r.Method + " " + r.Path
		if _, ok := skip[key]; ok {
			continue
		}
		oa := ginToOpenAPI(r.Path)
		registered[r.Method+" "+oa] = true
		if _, ok := doc.Paths[oa][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in the OpenAPI document as %s %s: add swag annotations to its handler and run make docs", r.Method, r.Path, strings.ToLower(r.Method), oa)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !registered[strings.ToUpper(m)+" "+p] {
				t.Errorf("the OpenAPI document has %s %s but no such route is registered: fix the @Router annotation or run make docs", m, p)
			}
		}
	}
	if len(registered) == 0 {
		t.Fatal("no routes registered")
	}
}

// TestOpenAPIGolden: the document the running router serves at
// /openapi.json (every route registered, monitor included) is the golden
// file, so it changes only on purpose, as prometheus'
// web/api/v1/openapi_golden_test.go does. After an intended API change:
// make docs && go test ./api -run OpenAPIGolden -update-openapi.
func TestOpenAPIGolden(t *testing.T) {
	golden := filepath.Join("testdata", "openapi.golden.json")
	w := get(t, docServer(t).Handler(), openAPIPath)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: status %d, Content-Type %q", openAPIPath, w.Code, w.Header().Get("Content-Type"))
	}
	got := w.Body.String()
	if *updateOpenAPI {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update-openapi)", err)
	}
	if got != string(want) {
		t.Errorf("the served %s differs from %s: if the API change is intended, run make docs && go test ./api -run OpenAPIGolden -update-openapi and commit both\n%s", openAPIPath, golden, firstDiff(string(want), got))
	}
	var doc openAPIDoc
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.Swagger != "2.0" || len(doc.Paths) == 0 {
		t.Errorf("served document: swagger %q, %d paths, %v", doc.Swagger, len(doc.Paths), err)
	}
}

// firstDiff shows the first differing line of two documents.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n golden: " + x + "\n    now: " + y
		}
	}
	return ""
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// TestDocsRoutes: the documentation routes answer without a token.
func TestDocsRoutes(t *testing.T) {
	h := docServer(t).Handler()
	tests := []struct {
		path     string
		status   int
		ctype    string // prefix
		location string
		contains string
	}{
		{"/openapi.json", 200, "application/json", "", `"swagger": "2.0"`},
		{"/docs", 301, "", "/docs/index.html", ""},
		{"/docs/", 301, "", "/docs/index.html", ""},
		{"/docs/index.html", 200, "text/html", "", "swagger-ui"},
		{"/docs/swagger-initializer.js", 200, "application/javascript", "", `url: "../openapi.json"`},
		{"/docs/swagger-ui-bundle.js", 200, "application/javascript", "", "SwaggerUIBundle"},
		{"/docs/nope.html", 404, "", "", ""},
		{"/redoc", 200, "text/html", "", `<redoc spec-url="openapi.json">`},
		{"/redoc/redoc.standalone.js", 200, "text/javascript", "", "Redoc"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(t, h, tt.path)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", w.Code, tt.status, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %q...", ct, tt.ctype)
			}
			if loc := w.Header().Get("Location"); loc != tt.location {
				t.Errorf("Location %q, want %q", loc, tt.location)
			}
			if !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

// TestDocsOffline: the documentation pages load nothing from another host
// (no CDN: many users run offline), and every asset they refer to is
// served.
func TestDocsOffline(t *testing.T) {
	h := docServer(t).Handler()
	attr := regexp.MustCompile(`(?i)\b(?:src|href|spec-url|url)\s*[=:]\s*["']([^"']+)["']`)
	for _, page := range []string{"/docs/index.html", "/docs/swagger-initializer.js", "/docs/index.css", "/redoc"} {
		w := get(t, h, page)
		if w.Code != 200 {
			t.Fatalf("%s: status %d", page, w.Code)
		}
		base, _ := url.Parse("http://pingapi.test" + page)
		refs := attr.FindAllStringSubmatch(w.Body.String(), -1)
		if page == "/docs/index.html" || page == "/redoc" {
			if len(refs) == 0 {
				t.Errorf("%s: no src/href found; is the test still reading the page?", page)
			}
		}
		for _, m := range refs {
			ref := m[1]
			u, err := base.Parse(ref)
			if err != nil {
				t.Errorf("%s: bad reference %q", page, ref)
				continue
			}
			if strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#") {
				continue
			}
			if u.Host != base.Host || strings.HasPrefix(strings.ToLower(ref), "http://") || strings.HasPrefix(strings.ToLower(ref), "https://") || strings.HasPrefix(ref, "//") {
				t.Errorf("%s refers to another host: %q", page, ref)
				continue
			}
			if aw := get(t, h, u.RequestURI()); aw.Code != 200 {
				t.Errorf("%s refers to %q (%s), which answers %d", page, ref, u.Path, aw.Code)
			}
		}
	}
	// The vendored Redoc bundle itself must not pull fonts, icons or
	// scripts from a CDN at run time.
	js := get(t, h, "/redoc/redoc.standalone.js").Body.String()
	for _, cdn := range []string{"cdn.redoc", "cdn.redocly", "cdn.jsdelivr", "unpkg.com", "fonts.googleapis", "cdnjs."} {
		if strings.Contains(js, cdn) {
			t.Errorf("redoc.standalone.js mentions %s", cdn)
		}
	}
}

// swagVersion must match the Makefile's docs target.
const swagVersion = "v1.16.6"

// TestOpenAPIUpToDate: api/docs/swagger.json is what swag generates from
// the annotations now, so nobody forgets `make docs`. It runs the pinned
// swag from the module cache (or the module proxy); without either it
// skips, except in CI.
func TestOpenAPIUpToDate(t *testing.T) {
	netlab.SkipShort(t, "runs swag")
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\tgo run github\.com/swaggo/swag/cmd/swag@(\S+) init (.*)$`).FindSubmatch(mk)
	if line == nil || string(line[1]) != swagVersion {
		t.Fatalf("Makefile docs target does not run swag@%s init ...", swagVersion)
	}
	out := t.TempDir()
	args := strings.Fields(string(line[2]))
	for i := range args {
		if i > 0 && args[i-1] == "-o" {
			args[i] = out
		}
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, append([]string{"run", "github.com/swaggo/swag/cmd/swag@" + swagVersion, "init"}, args...)...)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		netlab.Unavailable(t, fmt.Sprintf("cannot run swag %s (offline without it in the module cache?): %v\n%s", swagVersion, err, msg))
	}
	fresh, err := os.ReadFile(filepath.Join(out, "swagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(fresh) != docs.JSON() {
		t.Errorf("api/docs/swagger.json is stale: run make docs (then the golden update)\n%s", firstDiff(docs.JSON(), string(fresh)))
	}
}

// TestOpenAPIOperations: each operation documents its path parameters,
// a secured operation documents 401, and every error response has a
// described schema (the error envelope, or the monitor's Ping903-compatible
// error body).
func TestOpenAPIOperations(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Security   []map[string][]string `json:"security"`
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			Responses map[string]struct {
				Description string `json:"description"`
				Schema      *struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(docs.JSON()), &doc); err != nil {
		t.Fatal(err)
	}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for p, ops := range doc.Paths {
		for m, op := range ops {
			where := strings.ToUpper(m) + " " + p
			for _, want := range pathParam.FindAllStringSubmatch(p, -1) {
				found := false
				for _, prm := range op.Parameters {
					found = found || (prm.In == "path" && prm.Name == want[1])
				}
				if !found {
					t.Errorf("%s: path parameter %q is not documented (@Param %s path ...)", where, want[1], want[1])
				}
			}
			if _, ok := op.Responses["401"]; len(op.Security) > 0 && !ok {
				t.Errorf("%s: needs a token but does not document 401 (@Failure 401 {object} errorBody)", where)
			}
			for code, r := range op.Responses {
				if r.Description == "" {
					t.Errorf("%s: response %s has no description", where, code)
				}
				if code >= "400" && (r.Schema == nil || r.Schema.Ref == "") {
					t.Errorf("%s: error response %s has no schema (@Failure %s {object} errorBody)", where, code, code)
				}
			}
		}
	}
}
