package websec

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Passphrase hashing: PBKDF2-HMAC-SHA256 with a random salt (argon2 is not
// available here).
const (
	// DefaultIterations is the PBKDF2 iteration count of new hashes (OWASP's
	// recommendation for PBKDF2-HMAC-SHA256).
	DefaultIterations = 600_000
	// MinIterations is the lowest iteration count accepted, in a hash or an option.
	MinIterations = 10_000
	// MinPassphraseLength is the minimum length of a passphrase, in characters.
	MinPassphraseLength = 12

	hashScheme = "pbkdf2-sha256"
	saltLen    = 16
	keyLen     = 32
)

// verifier checks passphrases against a hash.
type verifier struct {
	iterations int
	salt, key  []byte
}

// HashPassphrase returns the hash of a passphrase to give [NewAuth] instead
// of the passphrase itself: "pbkdf2-sha256$ITERATIONS$SALT$KEY", salt and key
// in unpadded base64. iterations 0 means [DefaultIterations].
func HashPassphrase(passphrase string, iterations int) (string, error) {
	if n := utf8.RuneCountInString(passphrase); n < MinPassphraseLength {
		return "", fmt.Errorf("websec: the passphrase has %d characters, at least %d are needed", n, MinPassphraseLength)
	}
	v, err := newVerifier(passphrase, iterations)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, v.iterations, enc.EncodeToString(v.salt), enc.EncodeToString(v.key)), nil
}

// newVerifier hashes passphrase with a new random salt.
func newVerifier(passphrase string, iterations int) (*verifier, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < MinIterations {
		return nil, fmt.Errorf("websec: %d PBKDF2 iterations, at least %d are needed", iterations, MinIterations)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("websec: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, passphrase, salt, iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("websec: hash the passphrase: %w", err)
	}
	return &verifier{iterations: iterations, salt: salt, key: key}, nil
}

// isHash reports whether s looks like a hash of HashPassphrase.
func isHash(s string) bool { return strings.HasPrefix(s, hashScheme+"$") }

// parseHash reads a hash of HashPassphrase.
func parseHash(s string) (*verifier, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return nil, errors.New("websec: passphrase hash: want pbkdf2-sha256$ITERATIONS$SALT$KEY")
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < MinIterations || iterations > 100_000_000 {
		return nil, fmt.Errorf("websec: passphrase hash: iterations %q: want a number from %d", parts[1], MinIterations)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[2])
	if err != nil || len(salt) < 8 {
		return nil, errors.New("websec: passphrase hash: the salt is not base64 of at least 8 bytes")
	}
	key, err := enc.DecodeString(parts[3])
	if err != nil || len(key) != keyLen {
		return nil, fmt.Errorf("websec: passphrase hash: the key is not base64 of %d bytes", keyLen)
	}
	return &verifier{iterations: iterations, salt: salt, key: key}, nil
}

// check reports whether passphrase matches, in constant time.
func (v *verifier) check(passphrase string) bool {
	key, err := pbkdf2.Key(sha256.New, passphrase, v.salt, v.iterations, keyLen)
	return err == nil && subtle.ConstantTimeCompare(key, v.key) == 1
}
