package vaulttest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// accountsDoctype is consts.Accounts: its documents go through web/data/accounts.go.
const accountsDoctype = "io.cozy.accounts"

// Contexts of the double's sealed values, so that one cannot be opened as the other.
const (
	credentialsContext = "credentials"
	dataContext        = "credentials-data"
)

// encryptedAuthKeys are the members of "auth" the stack encrypts besides the password
// (web/data/accounts.go, encryptMap).
var encryptedAuthKeys = map[string]bool{"secret": true, "dob": true, "code": true, "answer": true,
	"access_token": true, "refresh_token": true, "appSecret": true, "session": true}

// getAccount is getAccount (web/data/accounts.go): the account is read, GET is checked on it, an
// account still holding clear credentials is encrypted and written back, and the credentials are
// decrypted only for a konnector's token (or a webapp asking ?include=credentials); the answer
// carries "_type".
func (c *call) getAccount(id string) {
	q := ""
	if rev := c.r.URL.Query().Get("rev"); rev != "" {
		q = "rev=" + rev
	}
	doc, err := c.getCouchDoc(id, q)
	if err != nil {
		c.fail(wrongDoctype(err))
		return
	}
	g, ok := c.allowDoc(http.MethodGet, doc)
	if !ok {
		return
	}
	if c.s.encryptAccount(doc) && !c.put(doc) {
		return
	}
	// Every token of the double is a konnector's or a webapp's.
	if g.konnector || c.r.URL.Query().Get("include") == "credentials" {
		c.s.decryptAccount(doc)
	}
	doc["_type"] = c.doctype
	writeJSON(c.w, http.StatusOK, doc)
}

// updateAccount is updateAccount (web/data/accounts.go): UpdateDoc's rules, the credentials
// encrypted before the write, and decrypted in the answer for a konnector's token. A body with
// neither _id nor _rev is createNamedDoc, which stores the account as sent.
func (c *call) updateAccount(id string) {
	doc, ok := c.decode(true)
	if !ok || !c.checkIDRev(id, doc) {
		return
	}
	if str(doc, "_id") == "" {
		doc["_id"] = id
		c.createNamedDoc(doc)
		return
	}
	if !c.allowUpdate(doc) {
		return
	}
	c.s.encryptAccount(doc)
	if !c.put(doc) {
		return
	}
	if g := c.s.lookupToken(requestToken(c.r)); g != nil && g.konnector {
		c.s.decryptAccount(doc)
	}
	c.written(http.StatusOK, doc)
}

// createAccount is createAccount (web/data/accounts.go): POST on the document, the credentials
// encrypted, then couchdb.CreateDoc (no "_id": 400 defined_id). The answer holds the encrypted
// account.
func (c *call) createAccount() {
	doc, ok := c.decode(false)
	if !ok {
		return
	}
	if _, ok := c.allowDoc(http.MethodPost, doc); !ok {
		return
	}
	c.s.encryptAccount(doc)
	c.create(doc)
}

// encryptAccount is encryptMap (web/data/accounts.go): in "auth", the password becomes
// "credentials_encrypted" (with the login), the other secrets "<key>_encrypted"; the same in
// "data.auth". It reports whether anything was encrypted.
func (s *CozyStack) encryptAccount(m map[string]any) (encrypted bool) {
	auth, ok := m["auth"].(map[string]any)
	if !ok {
		return false
	}
	login, _ := auth["login"].(string)
	cloned := make(map[string]any, len(auth))
	var encKeys []string
	for k, v := range auth {
		switch {
		case k == "password":
			password, _ := v.(string)
			pair, _ := json.Marshal([]string{login, password})
			cloned["credentials_encrypted"] = s.credentials.Seal(string(pair), credentialsContext)
			encrypted = true
		case encryptedAuthKeys[k]:
			raw, _ := json.Marshal(v)
			cloned[k+"_encrypted"] = s.credentials.Seal(string(raw), dataContext)
			encrypted = true
		case strings.HasSuffix(k, "_encrypted"):
			encKeys = append(encKeys, k)
		default:
			cloned[k] = v
		}
	}
	for _, k := range encKeys {
		if _, ok := cloned[k]; !ok {
			cloned[k] = auth[k]
		}
	}
	m["auth"] = cloned
	if data, ok := m["data"].(map[string]any); ok && s.encryptAccount(data) {
		encrypted = true
	}
	return encrypted
}

// decryptAccount is decryptMap (web/data/accounts.go): the reverse of encryptAccount.
func (s *CozyStack) decryptAccount(m map[string]any) {
	auth, ok := m["auth"].(map[string]any)
	if !ok {
		return
	}
	cloned := make(map[string]any, len(auth))
	for k, v := range auth {
		name, isEncrypted := strings.CutSuffix(k, "_encrypted")
		if !isEncrypted {
			cloned[k] = v
			continue
		}
		sealed, ok := v.(string)
		if !ok {
			cloned[name] = v
			continue
		}
		if name == "credentials" {
			plain, err := s.credentials.Open(sealed, credentialsContext)
			var pair []string
			if err == nil && json.Unmarshal([]byte(plain), &pair) == nil && len(pair) == 2 {
				cloned["login"], cloned["password"] = pair[0], pair[1]
			}
			continue
		}
		plain, err := s.credentials.Open(sealed, dataContext)
		var v any
		if err == nil && json.Unmarshal([]byte(plain), &v) == nil {
			cloned[name] = v
		}
	}
	m["auth"] = cloned
	if data, ok := m["data"].(map[string]any); ok {
		s.decryptAccount(data)
	}
}

// requestToken is the request's token, as call.grant reads it.
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return r.URL.Query().Get("bearer_token")
}
