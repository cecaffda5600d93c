package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestBearerToken(t *testing.T) {
	const jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	tests := []struct {
		name, header, want, reason string
	}{
		{"ok", "Bearer " + jws, jws, ""},
		{"lower-case scheme", "bearer " + jws, jws, ""},
		{"upper-case scheme", "BEARER " + jws, jws, ""},
		{"empty signature", "Bearer eyJh.eyJz.", "eyJh.eyJz.", ""},
		{"empty header", "", "", ReasonMissing},
		{"scheme only", "Bearer", "", ReasonMalformed},
		{"scheme and space", "Bearer ", "", ReasonMissing},
		{"two spaces", "Bearer  " + jws, "", ReasonMalformed},
		{"trailing space", "Bearer " + jws + " ", "", ReasonMalformed},
		{"tab", "Bearer\t" + jws, "", ReasonMalformed},
		{"basic", "Basic dXNlcjpwYXNz", "", ReasonMalformed},
		{"no scheme", jws, "", ReasonMalformed},
		{"two tokens", "Bearer " + jws + " " + jws, "", ReasonMalformed},
		{"two segments", "Bearer eyJh.eyJz", "", ReasonMalformed},
		{"four segments", "Bearer a.b.c.d", "", ReasonMalformed},
		{"empty header segment", "Bearer .eyJz.c2ln", "", ReasonMalformed},
		{"empty payload segment", "Bearer eyJh..c2ln", "", ReasonMalformed},
		{"padding", "Bearer eyJh.eyJz.c2ln==", "", ReasonMalformed},
		{"std base64", "Bearer ey+h.ey/z.c2ln", "", ReasonMalformed},
		{"newline", "Bearer eyJh.eyJz.c2ln\n", "", ReasonMalformed},
		{"NUL", "Bearer eyJh.eyJz.c2\x00n", "", ReasonMalformed},
		{"too large", "Bearer " + strings.Repeat("a", MaxTokenBytes) + ".b.c", "", ReasonMalformed},
		{"max size", "Bearer " + strings.Repeat("a", MaxTokenBytes-4) + ".b.c", strings.Repeat("a", MaxTokenBytes-4) + ".b.c", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BearerToken(tt.header)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("BearerToken = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) || Reason(err) != tt.reason || got != "" {
				t.Fatalf("BearerToken = %q, %v (reason %q); want reason %q", got, err, Reason(err), tt.reason)
			}
			if strings.Contains(err.Error(), "eyJ") || strings.Contains(PublicMessage(err), "eyJ") {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{
		"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "bearer a.b.c", "Bearer", "Bearer  a.b.c",
		"Basic x", "", "Bearer a.b.c.d", "Bearer a..c", "Bearer \x00.b.c", "BEARER a.b.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := BearerToken(h)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) || tok != "" {
				t.Fatalf("BearerToken(%q) = %q, %v", h, tok, err)
			}
			return
		}
		if len(tok) == 0 || len(tok) > MaxTokenBytes || strings.Count(tok, ".") != 2 {
			t.Fatalf("BearerToken(%q) accepted %q", h, tok)
		}
		if !strings.EqualFold(h[:7], "bearer ") || h[7:] != tok {
			t.Fatalf("BearerToken(%q) = %q: not the part after the scheme", h, tok)
		}
		for _, c := range []byte(tok) {
			if !(c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				t.Fatalf("BearerToken(%q) accepted byte %q", h, c)
			}
		}
	})
}
