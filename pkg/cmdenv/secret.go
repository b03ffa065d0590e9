package cmdenv

import (
	"os"
	"strings"
)

// Secret returns the secret (a passphrase, a token) held in file or, when file is "", in the
// environment variable env, trimmed of surrounding white space; "" when neither holds one. When
// other users may read the file, Secret calls warn (if not nil), which should tell the person to
// chmod 600 it. The error names the file, never the secret.
func Secret(file, env string, warn func()) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(env)), nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 && warn != nil {
		warn()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
