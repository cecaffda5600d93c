package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredChecksums checks that the vendored files are the ones
// README.md records (version and sha256), so an edit or a refresh that
// forgot the table fails here.
func TestVendoredChecksums(t *testing.T) {
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| npm `uplot@([0-9.]+)`.*\\| `([0-9a-f]{64})` \\|$")
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		seen++
		b, err := fs.ReadFile(Static(), "vendor/"+m[1])
		if err != nil {
			t.Errorf("%s: %v", m[1], err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != m[3] {
			t.Errorf("vendor/%s: sha256 %s, README.md records %s (uplot@%s)", m[1], got, m[3], m[2])
		}
	}
	if seen != 3 {
		t.Fatalf("README.md lists %d vendored files, want 3", seen)
	}
}

// TestNoInlineCode checks the pages have no inline script, inline style,
// event-handler attribute or external URL: the CSP forbids the first three
// and the page must work offline.
func TestNoInlineCode(t *testing.T) {
	bad := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script element with a body
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	}
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			return err
		}
		for _, re := range bad {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: %q is not allowed (CSP without unsafe-inline, no external URL)", p, b[loc[0]:min(loc[1]+20, len(b))])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoInnerHTML keeps the sources on textContent: any innerHTML,
// outerHTML, insertAdjacentHTML or document.write could turn a host name
// into markup.
func TestNoInnerHTML(t *testing.T) {
	re := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function`)
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") || strings.HasPrefix(p, "vendor/") {
			return err
		}
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			return err
		}
		if loc := re.FindIndex(b); loc != nil {
			t.Errorf("%s: %s", p, b[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
