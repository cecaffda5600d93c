package auth

import "strings"

// BearerToken extracts the token from an Authorization header value, as RFC
// 6750 section 2.1 describes, but strictly: the scheme "Bearer" (any case),
// exactly one space, then a compact JWS of three base64url segments
// separated by dots (header and payload non-empty), no other character, at
// most MaxTokenBytes. An empty header yields Reason "missing"; anything else
// wrong yields "malformed". Errors wrap ErrInvalidToken. It never logs or
// returns the header's content.
func BearerToken(header string) (string, error) {
	if header == "" {
		return "", invalid(ReasonMissing, "no Authorization header", nil)
	}
	if len(header) > len("Bearer ")+MaxTokenBytes {
		return "", invalid(ReasonMalformed, "Authorization header too large", nil)
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", invalid(ReasonMalformed, "Authorization scheme is not Bearer", nil)
	}
	if tok == "" {
		return "", invalid(ReasonMissing, "empty bearer token", nil)
	}
	if !isCompactJWS(tok) {
		return "", invalid(ReasonMalformed, "bearer token is not a JWT", nil)
	}
	return tok, nil
}

// isCompactJWS reports whether s is three dot-separated base64url segments
// (RFC 7515 section 7.1), the first two non-empty.
func isCompactJWS(s string) bool {
	dots := 0
	segLen := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if segLen == 0 && dots < 2 {
				return false
			}
			dots++
			segLen = 0
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			segLen++
		default:
			return false
		}
	}
	return dots == 2
}
