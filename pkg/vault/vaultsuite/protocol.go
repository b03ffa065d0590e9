package vaultsuite

// protocolCases are the cases that check CouchDB's protocol below the vault's API.
func protocolCases() []Case {
	return nil
}
