// Package tlsconf turns corral's --tls-cert, --tls-key and --tls-ca files
// into TLS configurations that follow the files as they change.
//
// A Reloader holds the current certificate and CA pool. The server
// configuration it builds (ServerConfig) asks it for them on every
// handshake, so a reload applies to the next handshake without restarting
// listeners; connections already open keep the certificate they shook
// hands with. Reload re-reads the files at once (corral calls it on
// SIGHUP); Watch polls them and reloads when their size, modification time
// or contents change. A reload that fails (a missing file, bad PEM, a key
// that does not match the certificate, a CA file without certificates)
// keeps the previous state and reports the error, so a half-written
// rotation never takes the listener down.
//
// Clients use TLS 1.2 or later. When a CA is configured, clients must
// present a certificate it signed (mutual TLS).
//
// ClientConfig builds the configuration for corral's own connections to
// other corral nodes: it presents the same certificate as a client
// certificate and verifies the peer's chain against the CA. Whether it also
// checks the peer's name is the caller's choice; see ClientConfig.
package tlsconf
