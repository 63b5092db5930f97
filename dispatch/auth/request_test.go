package auth

import "testing"

func TestTokenFromRequest(t *testing.T) {
	const jwtLike = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzIn0.c2ln-_"
	cases := []struct {
		name    string
		query   string
		cookie  string
		offered []string
		want    string
	}{
		{"none", "", "", nil, ""},
		{"query", "a=1&token=" + jwtLike, "", nil, jwtLike},
		{"query=escaped", "token=a%2Eb+c", "", nil, "a.b c"},
		{"query=bad-escape-skipped", "token=%zz&token=t2", "", nil, "t2"},
		{"query=empty-skipped", "token=&token=t2", "", nil, "t2"},
		{"query=escaped-empty", "token=%", "", nil, ""},
		{"query=other-key", "tokens=x&xtoken=y", "", nil, ""},
		{"cookie", "", "theme=dark; bellhop_token=" + jwtLike + "; lang=de", nil, jwtLike},
		{"cookie=quoted", "", `bellhop_token="q.t.s"`, nil, "q.t.s"},
		{"cookie=empty-skipped", "", "bellhop_token=; bellhop_token=c2", nil, "c2"},
		{"cookie=other", "", "bellhop_tokens=x", nil, ""},
		{"protocol=bearer", "", "", []string{"bellhop.v1", "bearer." + jwtLike}, jwtLike},
		{"protocol=access_token", "", "", []string{"access_token." + jwtLike, "bellhop.v1"}, jwtLike},
		{"protocol=first-wins", "", "", []string{"bearer.p1", "access_token.p2"}, "p1"},
		{"protocol=empty-skipped", "", "", []string{"bearer.", "bearer.p2"}, "p2"},
		{"protocol=case-sensitive", "", "", []string{"Bearer.x"}, ""},
		{"precedence=protocol-over-query", "token=q", "bellhop_token=c", []string{"bearer.p"}, "p"},
		{"precedence=query-over-cookie", "token=q", "bellhop_token=c", []string{"bellhop.v1"}, "q"},
		{"precedence=cookie-last", "x=1", "bellhop_token=c", []string{"bellhop.v1"}, "c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TokenFromRequest(tc.query, tc.cookie, tc.offered); got != tc.want {
				t.Errorf("TokenFromRequest = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTokenCharsAreHTTPTokenChars checks the claim of the docs: a JWT (base64url
// and dots) after the prefixes is a valid Sec-WebSocket-Protocol token.
func TestTokenCharsAreHTTPTokenChars(t *testing.T) {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	s := mustSign(t, mustSigner(t, "rsa", genKeys(t).rsa), staffClaims())
	for _, p := range []string{BearerProtocolPrefix + s, AccessTokenProtocolPrefix + s} {
		for i := range len(p) {
			if !containsByte(tchar, p[i]) {
				t.Fatalf("byte %q at %d of %q is not an HTTP token character", p[i], i, p)
			}
		}
	}
}

func containsByte(s string, c byte) bool {
	for i := range len(s) {
		if s[i] == c {
			return true
		}
	}
	return false
}
