// Package redact keeps credentials out of everything drainit prints: log
// lines at every verbosity, drainit check, usage errors and the excerpts of
// servers' error answers.
//
// Two layers: the secrets drainit was given or obtained (passwords, tokens,
// credential header values, URL passwords) are registered and replaced
// wherever they appear; and text that looks like a credential is masked by
// its shape: a URL's password, a Bearer or Basic credential, and the value
// after a key named like a secret (token, password, passwd, secret, key,
// auth, authorization, credential, cookie, signature) in `k=v`, `k: v` or
// JSON `"k":"v"` form.
package redact

import (
	"errors"
	"strings"
	"sync"
)

// Mask replaces what is redacted.
const Mask = "xxxxx"

// Secrets are the values one run of drainit was given or obtained: the
// drain's parser adds those of its configuration, a step those it obtains
// (a login's token), and every writer of drainit's output masks them.
type Secrets struct {
	mu     sync.RWMutex
	values []string
}

// minSecret: shorter values are masked by shape only (replacing every
// occurrence of "ab" would garble the text).
const minSecret = 4

// Add registers secret values to be masked wherever they appear.
func (s *Secrets) Add(values ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(v) >= minSecret {
			s.values = append(s.values, v)
		}
	}
}

// String returns text with every registered secret and every
// credential-shaped value masked. A nil Secrets masks by shape alone.
func (s *Secrets) String(text string) string {
	if s != nil {
		s.mu.RLock()
		for _, secret := range s.values {
			text = strings.ReplaceAll(text, secret, Mask)
		}
		s.mu.RUnlock()
	}
	return Shapes(text)
}

// Error is err with its text masked.
func (s *Secrets) Error(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(s.String(err.Error()))
}

// Shapes masks credential-shaped values: URL passwords, Bearer and Basic
// credentials, values after secret-named keys.
func Shapes(text string) string {
	return keyedValues(schemes(urlPasswords(text)))
}

// secretWords, as one part of a name (accessToken, X-Consul-Token,
// api_key), name a key whose value is a credential.
var secretWords = []string{"token", "password", "passwd", "pwd", "secret", "key", "apikey", "auth",
	"authorization", "credential", "credentials", "cookie", "signature"}

// IsSecretName reports whether a header, parameter or field name carries a
// credential.
func IsSecretName(name string) bool {
	for _, part := range nameParts(name) {
		for _, w := range secretWords {
			if part == w {
				return true
			}
		}
	}
	return false
}

// nameParts splits at '-', '_', '.' and lower-to-upper case changes, and
// lowers each part: accessToken is access and token.
func nameParts(name string) []string {
	var parts []string
	start := 0
	for i := 0; i <= len(name); i++ {
		cut := i == len(name) || name[i] == '-' || name[i] == '_' || name[i] == '.'
		camel := i > 0 && i < len(name) && name[i] >= 'A' && name[i] <= 'Z' && name[i-1] >= 'a' && name[i-1] <= 'z'
		if cut || camel {
			if i > start {
				parts = append(parts, strings.ToLower(name[start:i]))
			}
			start = i
			if cut {
				start = i + 1
			}
		}
	}
	return parts
}

// urlPasswords masks user:password@ after a scheme.
func urlPasswords(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?# \t\n\"'")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndex(s[:end], "@")
		colon := strings.Index(s[:max(at, 0)], ":")
		if at > 0 && colon >= 0 {
			b.WriteString(s[:colon+1] + Mask)
			s = s[at:]
		}
	}
}

// schemes masks the credential after Bearer or Basic.
func schemes(s string) string {
	for _, scheme := range []string{"Bearer ", "bearer ", "Basic ", "basic "} {
		s = maskAfter(s, scheme)
	}
	return s
}

func maskAfter(s, prefix string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len(prefix)])
		s = s[i+len(prefix):]
		n := valueLen(s)
		if n > 0 && s[:n] != Mask {
			b.WriteString(Mask)
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
}

// keyedValues masks the value after each secret-named key.
func keyedValues(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		b.WriteString(s[i:j])
		if !IsSecretName(s[i:j]) {
			i = j
			continue
		}
		k := skipSeparator(s, j)
		if k == j {
			i = j
			continue
		}
		b.WriteString(s[j:k])
		for _, scheme := range []string{"Bearer ", "Basic ", "bearer ", "basic "} {
			if strings.HasPrefix(s[k:], scheme) {
				b.WriteString(scheme)
				k += len(scheme)
				break
			}
		}
		n := valueLen(s[k:])
		if n > 0 && s[k:k+n] != Mask {
			b.WriteString(Mask)
		} else {
			b.WriteString(s[k : k+n])
		}
		i = k + n
	}
	return b.String()
}

// skipSeparator passes `"`, spaces and one `:` or `=` after a key, and a
// quote before the value; it returns i when there is no separator.
func skipSeparator(s string, i int) int {
	k := i
	for k < len(s) && (s[k] == '"' || s[k] == '\'' || s[k] == '\\') {
		k++
	}
	for k < len(s) && s[k] == ' ' {
		k++
	}
	if k >= len(s) || (s[k] != ':' && s[k] != '=') {
		return i
	}
	k++
	for k < len(s) && (s[k] == ' ' || s[k] == '"' || s[k] == '\'' || s[k] == '\\') {
		k++
	}
	return k
}

// valueLen is the length of the value at the start of s: up to a quote,
// a comma, an ampersand, white space or a closing bracket.
func valueLen(s string) int {
	n := strings.IndexAny(s, "\"'\\&,; \t\n}])")
	if n < 0 {
		return len(s)
	}
	return n
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
