// Package seal encrypts (AES-256-GCM) the secrets a vault holds (the tracking server's token in each
// account) with a key kept in a file beside the vault, readable by its owner only.
//
// Cozy's stack encrypts io.cozy.accounts' auth member at rest; the embedded vault has no stack,
// so the connector does it itself: a copy of the vault file alone does not give away the token.
// Sealed values are "sealed:v1:" + base64(nonce | AES-256-GCM ciphertext); the account id is
// authenticated with them, so a sealed token cannot be moved to another account.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

const prefix = "sealed:v1:"

// keySize is AES-256's.
const keySize = 32

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// OpenKeyFile loads the key at path, creating it (mode 0600) with a new random key when the file
// does not exist. A key file that others can read is refused: fix its mode with chmod 600.
// Where values may already be sealed with a key that is lost, use [LoadKeyFile] and decide.
func OpenKeyFile(path string) (*Box, error) {
	box, err := LoadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CreateKeyFile(path)
	}
	return box, err
}

// LoadKeyFile loads the key at path. A missing file gives an error matching fs.ErrNotExist; a
// key file that others can read is refused: fix its mode with chmod 600.
func LoadKeyFile(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s is readable by others (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("seal: key file %s holds %d bytes, want %d: it is not a key file", path, len(key), keySize)
	}
	return New(key)
}

// CreateKeyFile writes a new random key at path (mode 0600) and returns its Box. When the file
// appeared meanwhile (another process created it first), it loads that one instead.
func CreateKeyFile(path string) (*Box, error) {
	key := make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: create key file %s: %w", path, err)
	}
	_, werr := f.Write(key)
	serr := f.Sync()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil || serr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("seal: write key file %s: %w", path, errors.Join(werr, serr))
	}
	return New(key)
}

// NewEphemeral returns a Box with a new random key kept in memory only: what it seals cannot be
// opened once it is gone.
func NewEphemeral() (*Box, error) {
	key := make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return New(key)
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts secret, bound to context (the account id).
func (b *Box) Seal(secret, context string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	sealed := b.aead.Seal(nonce, nonce, []byte(secret), []byte(context))
	return prefix + base64.StdEncoding.EncodeToString(sealed)
}

// ErrWrongKey means a sealed value does not open with this key (another vault's key file, a
// key file made anew after the old one was lost, a changed account id, or tampering).
var ErrWrongKey = errors.New("seal: the secret does not open with this key file " +
	"(it was sealed with another key, lost or another vault's): give the secret again to seal it anew")

// Open decrypts a value made by Seal with the same context. A value that is not sealed is
// returned as it is, so vaults written before encryption, or by the Cozy stack, still work.
func (b *Box) Open(value, context string) (string, error) {
	if !IsSealed(value) {
		return value, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(value, prefix))
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("seal: malformed sealed value")
	}
	plain, err := b.aead.Open(nil, raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():], []byte(context))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

// IsSealed reports whether value was made by Seal.
func IsSealed(value string) bool { return strings.HasPrefix(value, prefix) }
